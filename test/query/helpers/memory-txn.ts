// A tiny sorted-map WriteTxn for query tests (until/besides src/storage's
// memory store): one sorted array per db, binary search, lazy range reads.
import type { DbName, Entry, RangeOptions, WriteTxn } from "../../../src/storage/store.js";

export class MemoryTxn implements WriteTxn {
  private readonly dbs = new Map<DbName, Entry[]>();
  /** Bumped by every put/remove: an open range re-finds its position only after a write. */
  private mutations = 0;

  private db(name: DbName): Entry[] {
    let d = this.dbs.get(name);
    if (d === undefined) {
      d = [];
      this.dbs.set(name, d);
    }
    return d;
  }

  /** First index whose key >= key. */
  private lower(d: Entry[], key: Buffer): number {
    let lo = 0;
    let hi = d.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare((d[mid] as Entry).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(db: DbName, key: Buffer): unknown {
    const d = this.db(db);
    const i = this.lower(d, key);
    const e = d[i];
    return e !== undefined && e.key.equals(key) ? e.value : undefined;
  }

  *range(db: DbName, options: RangeOptions): Iterable<Entry> {
    const d = this.db(db);
    const from = options.start === undefined ? 0 : this.lower(d, options.start);
    const to = options.end === undefined ? d.length : this.lower(d, options.end);
    let n = 0;
    const limit = options.limit ?? Infinity;
    if (options.reverse === true) {
      for (let i = to - 1; i >= from && n < limit; i--, n++) yield d[i] as Entry;
    } else {
      // Re-find the position after each yield: writes between pulls must not skip entries.
      let last: Buffer | null = null;
      let i = from;
      let seen = this.mutations;
      while (n < limit) {
        if (last !== null && seen !== this.mutations) {
          const at = this.lower(d, last);
          i = at + (d[at]?.key.equals(last) === true ? 1 : 0);
          seen = this.mutations;
        } else if (last !== null) i++;
        const e = d[i];
        if (e === undefined || (options.end !== undefined && Buffer.compare(e.key, options.end) >= 0)) return;
        last = e.key;
        n++;
        yield e;
      }
    }
  }

  put(db: DbName, key: Buffer, value: unknown): void {
    this.mutations++;
    const d = this.db(db);
    const i = this.lower(d, key);
    const e = d[i];
    if (e !== undefined && e.key.equals(key)) d[i] = { key: Buffer.from(key), value };
    else d.splice(i, 0, { key: Buffer.from(key), value });
  }

  remove(db: DbName, key: Buffer): void {
    this.mutations++;
    const d = this.db(db);
    const i = this.lower(d, key);
    const e = d[i];
    if (e !== undefined && e.key.equals(key)) d.splice(i, 1);
  }

  /** Every entry of a db (for state comparisons). */
  entries(db: DbName): readonly Entry[] {
    return this.db(db);
  }
}
