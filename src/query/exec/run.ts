// Runs a QueryPlan: index ranges -> residual filter -> (merge | top-k |
// dedupe) -> page token -> OFFSET -> LIMIT / row cap. Rows stream: in merge
// and unordered modes nothing is read before the consumer asks for it.
import { encodeKey } from "../../storage/key-codec.js";
import type { KeyPart, ReadTxn } from "../../storage/store.js";
import { QueryError } from "../errors.js";
import { pathKey } from "../ir/nodes.js";
import { COUNT_SCAN_ROWS_MAX, SORT_SCAN_ROWS_MAX } from "../limits.js";
import type { IndexScan, OrderKey, QueryPlan } from "../plan/plan-nodes.js";
import type { KeyRange } from "../plan/ranges.js";
import { scanRanges } from "../plan/ranges.js";
import { compareKeyParts } from "../../storage/key-codec.js";
import { evaluate } from "./evaluate.js";
import { Heap } from "./heap.js";
import type { Params } from "./params.js";
import type { RowItem } from "./row-source.js";
import { compareSortKeys, indexRange, sortKey, tableRows } from "./row-source.js";

export interface RunOptions {
  readonly limit: number | null;
  readonly offset: number;
  /** Start strictly after this sort key (from a page token). */
  readonly after: readonly KeyPart[] | null;
  /** Look one row past LIMIT to tell whether there is more. */
  readonly wantMore: boolean;
  readonly rowsMax: number;
}

export interface RunInfo {
  /** Sort key of the last row returned, null if none. */
  lastKey(): KeyPart[] | null;
  hasMore: boolean;
}

interface Keyed extends RowItem {
  /** The row's sort key; computed only when something compares rows (merge, top-k, token). */
  readonly key: KeyPart[];
}

const NO_KEY: KeyPart[] = [];

/** Where a range can start given the token (keyset seek); the filter still drops rows <= token. */
function seekStart(scan: IndexScan, range: KeyRange, order: readonly OrderKey[], after: readonly KeyPart[]): Buffer {
  const pos = new Map(order.map((o, i) => [o.path === null ? "\u0000pk" : pathKey(o.path), i]));
  const cols = scan.index.columns;
  for (let i = 0; i < scan.eq.length; i++) {
    const at = pos.get(pathKey((cols[i] as { path: readonly string[] }).path));
    if (at !== undefined && compareKeyParts(after[at] as KeyPart, range.points[i] as KeyPart) !== 0) return range.start;
  }
  const suffix: KeyPart[] = [];
  for (const y of scan.yields) {
    const at = pos.get(y.path === null ? "\u0000pk" : pathKey(y.path));
    if (at === undefined) return range.start;
    suffix.push(after[at] as KeyPart);
  }
  const seek = encodeKey([scan.index.id, ...range.points, ...suffix], [false, ...cols.map((c) => c.desc)]);
  return Buffer.compare(seek, range.start) > 0 ? seek : range.start;
}

function* filtered(source: Iterable<RowItem>, plan: QueryPlan, params: Params, after: readonly KeyPart[] | null, needKey: boolean): Generator<Keyed> {
  for (const item of source) {
    if (plan.filter !== null && evaluate(plan.filter, item.row, params) !== true) continue;
    const key = needKey ? sortKey(item, plan.order) : NO_KEY;
    if (after !== null && compareSortKeys(key, after, plan.order) <= 0) continue;
    yield { pk: item.pk, row: item.row, key };
  }
}

/** One filtered stream per index range (or the table), each in plan.order when mode is merge. */
function streams(txn: ReadTxn, table: string, plan: QueryPlan, params: Params, after: readonly KeyPart[] | null): Generator<Keyed>[] {
  const a = plan.access;
  if (a.kind === "tableScan") return [filtered(tableRows(txn, table), plan, params, after, after !== null)];
  const scans = a.kind === "union" ? a.scans : [a];
  const ranges = scans.flatMap((scan) => scanRanges(scan, params).map((r) => ({ scan, r })));
  const needKey = plan.mode === "topK" || ranges.length > 1 || after !== null;
  return ranges.map(({ scan, r }) => {
    const start = after !== null && plan.mode === "merge" ? seekStart(scan, r, plan.order, after) : r.start;
    return filtered(indexRange(txn, table, start, r.end), plan, params, after, needKey);
  });
}

/** K-way merge of streams sorted by `order`; equal keys (same pk) come out once. */
function* merge(sources: Generator<Keyed>[], order: readonly OrderKey[]): Generator<Keyed> {
  if (sources.length === 1) {
    yield* sources[0] as Generator<Keyed>;
    return;
  }
  const heap = new Heap<{ item: Keyed; src: Generator<Keyed> }>((x, y) => compareSortKeys(x.item.key, y.item.key, order) < 0);
  for (const src of sources) {
    const n = src.next();
    if (n.done !== true) heap.push({ item: n.value, src });
  }
  let last: string | null = null;
  while (heap.size > 0) {
    const top = heap.pop() as { item: Keyed; src: Generator<Keyed> };
    if (top.item.pk !== last) yield top.item;
    last = top.item.pk;
    const n = top.src.next();
    if (n.done !== true) heap.push({ item: n.value, src: top.src });
  }
}

function* unordered(sources: Generator<Keyed>[], seenMax: number): Generator<Keyed> {
  const seen = new Set<string>();
  for (const src of sources) {
    for (const item of src) {
      if (seen.has(item.pk)) continue;
      if (seen.size >= seenMax) throw tooMany(seenMax);
      seen.add(item.pk);
      yield item;
    }
  }
}

/** The best `k` rows by order, after reading every matching row (bounded by SORT_SCAN_ROWS_MAX). */
function topK(sources: Generator<Keyed>[], order: readonly OrderKey[], k: number): Keyed[] {
  const worstFirst = new Heap<Keyed>((x, y) => compareSortKeys(x.key, y.key, order) > 0);
  const seen = new Set<string>();
  for (const src of sources) {
    for (const item of src) {
      if (seen.has(item.pk)) continue;
      seen.add(item.pk);
      if (seen.size > SORT_SCAN_ROWS_MAX) {
        throw new QueryError("ERR_TOO_MANY_ROWS", `this query sorts its matching rows in memory and more than ${SORT_SCAN_ROWS_MAX} match; narrow the WHERE clause or order by columns an index can serve`);
      }
      if (k === 0) continue;
      if (worstFirst.size < k) worstFirst.push(item);
      else if (compareSortKeys(item.key, (worstFirst.peek() as Keyed).key, order) < 0) {
        worstFirst.pop();
        worstFirst.push(item);
      }
    }
  }
  return worstFirst.drain().sort((x, y) => compareSortKeys(x.key, y.key, order));
}

function tooMany(rowsMax: number): QueryError {
  return new QueryError("ERR_TOO_MANY_ROWS", `query returns more than ${rowsMax} rows; page it with LIMIT and next_page_token() / OFFSET page_token_offset(:token)`);
}

/** Matching rows in plan.order, paged; `info` is complete once the iterable is exhausted. */
export function run(txn: ReadTxn, table: string, plan: QueryPlan, params: Params, opts: RunOptions): { rows: Iterable<RowItem>; info: RunInfo } {
  let last: Keyed | null = null;
  const info: RunInfo = {
    hasMore: false,
    lastKey: () => (last === null ? null : last.key === NO_KEY ? sortKey(last, plan.order) : last.key),
  };
  function* rows(): Generator<RowItem> {
    const sources = streams(txn, table, plan, params, opts.after);
    let ordered: Iterable<Keyed>;
    if (plan.mode === "topK") {
      const k = opts.limit === null ? opts.rowsMax + 1 : opts.offset + opts.limit + 1;
      ordered = topK(sources, plan.order, k);
    } else if (plan.mode === "unordered") ordered = unordered(sources, opts.offset + opts.rowsMax + 1);
    else ordered = merge(sources, plan.order);
    let skipped = 0;
    let emitted = 0;
    for (const item of ordered) {
      if (skipped < opts.offset) {
        skipped++;
        continue;
      }
      if (opts.limit !== null && emitted >= opts.limit) {
        info.hasMore = true;
        return;
      }
      if (emitted >= opts.rowsMax) throw tooMany(opts.rowsMax);
      emitted++;
      last = item;
      yield item;
      if (opts.limit !== null && emitted >= opts.limit && !opts.wantMore) return;
    }
  }
  return { rows: rows(), info };
}

/** Number of matching rows (no order, no paging), bounded by COUNT_SCAN_ROWS_MAX. */
export function countRows(txn: ReadTxn, table: string, plan: QueryPlan, params: Params): number {
  const sources = streams(txn, table, plan, params, null);
  const dedupe = sources.length > 1;
  const seen = new Set<string>();
  let n = 0;
  for (const src of sources) {
    for (const item of src) {
      if (dedupe) {
        if (seen.has(item.pk)) continue;
        seen.add(item.pk);
      }
      if (++n > COUNT_SCAN_ROWS_MAX) {
        throw new QueryError("ERR_TOO_MANY_ROWS", `COUNT(*) stops at ${COUNT_SCAN_ROWS_MAX} rows; narrow the WHERE clause`);
      }
    }
  }
  return n;
}
