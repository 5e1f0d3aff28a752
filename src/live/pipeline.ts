// One live query with one set of parameters: filter -> window -> project,
// shared by every subscription to the same (view, query, params). After each
// commit it turns the row deltas routed to it into at most one change message
// (a burst within one commit is coalesced), numbered by `seq`, and keeps the
// last few for subscribers that reconnect and resume.
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { compareSortKeys, sortKey } from "../query/exec/row-source.js";
import type { ReadTxn } from "../storage/store.js";
import type { Row, RowDelta } from "../query/types.js";
import { LiveError } from "./errors.js";
import { makeFilter, type RowFilter } from "./filter.js";
import type { LiveLimits } from "./limits.js";
import type { Params } from "./params.js";
import { readRows } from "./read-rows.js";
import type { LiveShape } from "./shape.js";
import { Window, type Entry } from "./window.js";

/** One operation on a subscriber's ordered result (docs/protocol.md, "change"). */
export type ChangeOp =
  | { readonly op: "remove"; readonly key: string }
  | { readonly op: "add" | "update"; readonly key: string; readonly index: number; readonly row: Row };

export interface SnapshotRow {
  readonly key: string;
  readonly row: Row;
}

/** The whole current result, at `seq` of `stream`. */
export interface Snapshot {
  readonly stream: string;
  readonly seq: number;
  readonly rows: readonly SnapshotRow[];
}

/**
 * One commit's changes to a pipeline: `json` is the ChangeOp[] serialized once
 * for every subscriber (and all that the resume log keeps of it).
 */
export interface Change {
  readonly seq: number;
  readonly json: string;
}

type Read = <T>(fn: (txn: ReadTxn) => T) => T;

export class Pipeline {
  readonly key: string;
  readonly params: Params;
  #shape: LiveShape;
  #filter: RowFilter;
  #window: Window = new Window([], 0);
  #offset = 0;
  #limit: number | null = null;
  /** Names this incarnation of the change stream: a resume names it with its seq. */
  #stream = "";
  #seq = 0;
  readonly #log: Change[] = [];
  #logBytes = 0;
  readonly #limits: LiveLimits;

  constructor(key: string, shape: LiveShape, params: Params, limits: LiveLimits) {
    this.key = key;
    this.#shape = shape;
    this.params = params;
    this.#limits = limits;
    this.#filter = makeFilter(shape.query.plan.filter, params);
  }

  get shape(): LiveShape {
    return this.#shape;
  }

  get stream(): string {
    return this.#stream;
  }

  get seq(): number {
    return this.#seq;
  }

  /** Rows held in memory (the window, including OFFSET rows). */
  get size(): number {
    return this.#window.size;
  }

  /**
   * (Re)loads the result from the store and starts a new stream. Throws the
   * query's errors (parameters, row cap) and LiveError.
   */
  load(read: Read, shape: LiveShape = this.#shape): void {
    const query = shape.query;
    query.validate(this.params); // types, LIKE patterns, LIMIT/OFFSET values
    const { offset, limit } = shape.window(this.params);
    const capacity = limit === null ? null : offset + limit;
    if (capacity !== null && capacity > this.#limits.windowRowsMax) {
      throw new LiveError("ERR_NOT_LIVE", `a live query holds OFFSET + LIMIT rows in memory: ${capacity} is more than ${this.#limits.windowRowsMax}`);
    }
    const window = new Window(query.plan.order, capacity);
    const { entries, more } = read((txn) => readRows(txn, shape, this.params, null, capacity));
    window.load(entries, more);
    this.#shape = shape;
    this.#filter = makeFilter(query.plan.filter, this.params);
    this.#window = window;
    this.#offset = offset;
    this.#limit = limit;
    this.#checkSize();
    this.#stream = randomBytes(9).toString("base64url");
    this.#seq = 0;
    this.#log.length = 0;
    this.#logBytes = 0;
  }

  /** After a reload the same SQL compiles to an equal query: keep the rows, use the new object. */
  adopt(shape: LiveShape): void {
    this.#shape = shape;
  }

  /** Checks the parameters without reading rows (for a pipeline that waits for a view build). */
  validate(): void {
    this.#shape.query.validate(this.params);
  }

  snapshot(): Snapshot {
    const rows: SnapshotRow[] = [];
    const entries = this.#window.entries;
    for (let i = this.#offset; i < entries.length; i++) {
      const e = entries[i] as Entry;
      rows.push({ key: e.pk, row: this.#shape.project(e.row) });
    }
    return { stream: this.#stream, seq: this.#seq, rows };
  }

  /** The changes after `seq`, or null when they are no longer kept (or `seq` is not of this stream). */
  changesAfter(seq: number): Change[] | null {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > this.#seq) return null;
    if (seq === this.#seq) return [];
    const first = this.#log[0];
    if (first === undefined || first.seq > seq + 1) return null;
    return this.#log.filter((c) => c.seq > seq);
  }

  /**
   * Applies one commit's deltas (in commit order; only those routed here).
   * Returns the change to send, or null when the visible result is unchanged.
   * Throws LiveError (row cap, single) or a query error from a read.
   */
  apply(deltas: readonly RowDelta[], read: Read): Change | null {
    const window = this.#window;
    const order = this.#shape.query.plan.order;
    const before = this.#offset > 0 ? window.entries.slice(this.#offset) : null;
    for (const d of deltas) {
      window.remove(d.pk);
      if (d.new !== null && this.#filter(d.new)) {
        window.insert({ pk: d.pk, key: sortKey({ pk: d.pk, row: d.new }, order), row: d.new });
      }
    }
    const gap = window.gap();
    if (gap !== null) {
      const { entries, more } = read((txn) => readRows(txn, this.#shape, this.params, gap.after, gap.rows));
      window.fill(entries, more);
    }
    const changed = window.takeChanges();
    this.#checkSize();
    const ops = before === null ? this.#diffChanged(changed) : this.#diffSlices(before);
    if (ops.length === 0) return null;
    const change: Change = { seq: ++this.#seq, json: JSON.stringify(ops) };
    this.#remember(change);
    return change;
  }

  #checkSize(): void {
    const rows = this.#window.size - this.#offset;
    if (this.#shape.single && rows > 1) {
      throw new LiveError("ERR_NOT_UNIQUE", `query "${this.#shape.query.name}" is declared single but more than one row now matches`);
    }
    if (this.#limit === null && rows > this.#shape.query.maxRows) {
      throw new LiveError("ERR_TOO_MANY_ROWS", `the live result of query "${this.#shape.query.name}" grew past ${this.#shape.query.maxRows} rows; subscribe with LIMIT`);
    }
  }

  /** OFFSET 0: the window is the output; only the recorded pks can differ. */
  #diffChanged(changed: ReadonlyMap<string, Entry | null>): ChangeOp[] {
    const removes: ChangeOp[] = [];
    const upserts: { index: number; op: ChangeOp }[] = [];
    for (const [pk, old] of changed) {
      const now = this.#window.get(pk) ?? null;
      if (now === null) {
        if (old !== null) removes.push({ op: "remove", key: pk });
      } else if (old === null || !this.#same(old, now)) {
        const index = this.#window.indexOf(now.key);
        upserts.push({ index, op: { op: old === null ? "add" : "update", key: pk, index, row: this.#shape.project(now.row) } });
      }
    }
    return finish(removes, upserts);
  }

  /** OFFSET n: rows shift in and out of the output without changing themselves. */
  #diffSlices(before: readonly Entry[]): ChangeOp[] {
    const after = this.#window.entries;
    const old = new Map<string, Entry>();
    for (const e of before) old.set(e.pk, e);
    const removes: ChangeOp[] = [];
    const upserts: { index: number; op: ChangeOp }[] = [];
    const still = new Set<string>();
    for (let i = this.#offset; i < after.length; i++) {
      const now = after[i] as Entry;
      still.add(now.pk);
      const was = old.get(now.pk);
      if (was === now || (was !== undefined && this.#same(was, now))) continue;
      const index = i - this.#offset;
      upserts.push({ index, op: { op: was === undefined ? "add" : "update", key: now.pk, index, row: this.#shape.project(now.row) } });
    }
    for (const e of before) if (!still.has(e.pk)) removes.push({ op: "remove", key: e.pk });
    return finish(removes, upserts);
  }

  /** Same position and same output row: nothing to send. */
  #same(a: Entry, b: Entry): boolean {
    if (compareSortKeys(a.key, b.key, this.#shape.query.plan.order) !== 0) return false;
    return a.row === b.row || isDeepStrictEqual(this.#shape.project(a.row), this.#shape.project(b.row));
  }

  #remember(change: Change): void {
    this.#log.push(change);
    this.#logBytes += change.json.length;
    while (this.#log.length > this.#limits.resumeChangesMax || (this.#logBytes > this.#limits.resumeBytesMax && this.#log.length > 1)) {
      const dropped = this.#log.shift() as Change;
      this.#logBytes -= dropped.json.length;
    }
  }
}

/** Removes first, then adds/updates by ascending final index (the order a client applies them in). */
function finish(removes: ChangeOp[], upserts: { index: number; op: ChangeOp }[]): ChangeOp[] {
  upserts.sort((a, b) => a.index - b.index);
  for (const u of upserts) removes.push(u.op);
  return removes;
}
