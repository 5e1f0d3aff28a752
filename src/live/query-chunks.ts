// Reads a list query's rows in chunks, for HTTP responses that stream with
// backpressure: each chunk is one snapshot read, and the next chunk continues
// strictly after the last row's sort key (keyset continuation, as page tokens
// do). Rows committed between two chunks show up, or not, by their position:
// a row that moved from after the cursor to before it is missed, one that
// moved the other way is seen twice. The whole result is one snapshot when it
// fits in one chunk, and always for plans whose order cannot be continued
// (OR over different indexes without ORDER BY), which are read at once.
import { run } from "../query/exec/run.js";
import { sortKey } from "../query/exec/row-source.js";
import { QueryError } from "../query/errors.js";
import type { KeyPart, ReadTxn } from "../storage/store.js";
import type { Row } from "../query/types.js";
import type { Params } from "./params.js";
import type { LiveShape } from "./shape.js";

type Read = <T>(fn: (txn: ReadTxn) => T) => T;

export class QueryChunks {
  readonly #read: Read;
  readonly #shape: LiveShape;
  readonly #params: Params;
  #after: readonly KeyPart[] | null = null;
  #offset: number;
  /** Rows LIMIT still allows (null: no LIMIT). */
  #left: number | null;
  #emitted = 0;
  #done = false;

  /** Checks the parameters at once (throws the query's errors); reads nothing. */
  constructor(read: Read, shape: LiveShape, params: Params) {
    this.#read = read;
    this.#shape = shape;
    this.#params = params;
    shape.query.validate(params);
    const { offset, limit } = shape.window(params);
    this.#offset = offset;
    this.#left = limit;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Up to `rows` more rows (projected); then `done` tells whether more may follow. Throws ERR_TOO_MANY_ROWS past the query's cap. */
  next(rows: number): Row[] {
    if (this.#done) return [];
    const query = this.#shape.query;
    const plan = query.plan;
    const capLeft = query.maxRows - this.#emitted;
    const whole = plan.mode === "unordered";
    let want = whole ? capLeft + 1 : Math.min(rows, capLeft + 1);
    if (this.#left !== null) want = Math.min(want, this.#left);
    if (want <= 0) {
      this.#done = true;
      return [];
    }
    const { items, more } = this.#read((txn) => {
      const r = run(txn, this.#shape.table, plan, this.#params, { limit: want, offset: this.#offset, after: this.#after, wantMore: true, rowsMax: want + 1 });
      const out = [...r.rows];
      return { items: out, more: r.info.hasMore };
    });
    this.#offset = 0;
    if (this.#emitted + items.length > query.maxRows) {
      throw new QueryError("ERR_TOO_MANY_ROWS", `query returns more than ${query.maxRows} rows; page it with LIMIT and next_page_token() / OFFSET page_token_offset(:token)`);
    }
    this.#emitted += items.length;
    if (this.#left !== null) this.#left -= items.length;
    const last = items[items.length - 1];
    if (last !== undefined) this.#after = sortKey(last, plan.order);
    if (!more || whole || (this.#left !== null && this.#left <= 0)) this.#done = true;
    return items.map((i) => this.#shape.project(i.row));
  }
}

/** Rows as a response body: a JSON array, or NDJSON (one row per line). */
export function encodeRows(rows: readonly Row[], ndjson: boolean): string {
  return ndjson ? rows.map((r) => JSON.stringify(r) + "\n").join("") : JSON.stringify(rows);
}
