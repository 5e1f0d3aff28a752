// The window operator (ORDER BY + OFFSET + LIMIT): the first `capacity` rows
// of a query's matching rows, in the plan's order, kept sorted in memory.
//
// Contract (written once, relied on by pipeline.ts):
//  - `entries` holds every matching row whose sort key is <= `bound`, sorted,
//    and never more than `capacity` of them; `bound === null` means +infinity
//    (the window holds all matching rows).
//  - insert() and remove() take rows that pass the filter; they are keyed by
//    pk, so applying a change twice is harmless (a snapshot may already hold a
//    commit whose deltas arrive afterwards).
//  - A row entering a full window pushes the last one out (the bound moves
//    down to the new last row). A row leaving leaves a gap that fill() closes
//    after the commit, by reading the rows after `bound` from the index: that
//    read sees the committed state, so rows beyond the bound that this commit
//    added or removed are read as they now are.
//  - Every pk whose entry changed since takeChanges() is recorded with the
//    entry it had before (null: absent), for the diff sent to subscribers.
import type { KeyPart } from "../storage/store.js";
import type { OrderKey } from "../query/plan/plan-nodes.js";
import { compareSortKeys } from "../query/exec/row-source.js";
import { compareForSort } from "../query/values/value.js";
import type { Row } from "../query/types.js";

/** Up to this many entries, a removal finds its entry by scanning for it. */
const LINEAR_MAX = 64;

export interface Entry {
  readonly pk: string;
  /** The row's sort key in the plan's order (pk last, so keys are unique). */
  readonly key: readonly KeyPart[];
  readonly row: Row;
}

export class Window {
  readonly #order: readonly OrderKey[];
  /** null: no LIMIT. */
  readonly #capacity: number | null;
  #entries: Entry[] = [];
  /**
   * The first sort-key part of each entry, in step with #entries. A window
   * is touched by one commit in a thousand: its objects are out of the CPU
   * cache, and each step of a search through entry -> key -> part is a miss.
   * The search compares these first (one hop) and removal finds its entry by
   * identity in the (contiguous) array of entries.
   */
  #heads: KeyPart[] = [];
  readonly #byPk = new Map<string, Entry>();
  #bound: readonly KeyPart[] | null = null;
  #changes = new Map<string, Entry | null>();

  constructor(order: readonly OrderKey[], capacity: number | null) {
    this.#order = order;
    this.#capacity = capacity;
  }

  get entries(): readonly Entry[] {
    return this.#entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  get(pk: string): Entry | undefined {
    return this.#byPk.get(pk);
  }

  /** Loads the first rows of the result; `more`: rows exist past the last one. */
  load(entries: readonly Entry[], more: boolean): void {
    this.#entries = [...entries];
    this.#heads = entries.map((e) => e.key[0] as KeyPart);
    this.#byPk.clear();
    for (const e of entries) this.#byPk.set(e.pk, e);
    this.#bound = more && entries.length > 0 ? (entries[entries.length - 1] as Entry).key : null;
    this.#changes.clear();
  }

  remove(pk: string): void {
    const e = this.#byPk.get(pk);
    if (e === undefined) return;
    this.#record(pk, e);
    const i = this.#entries.length <= LINEAR_MAX ? this.#entries.indexOf(e) : this.#indexOf(e.key);
    this.#entries.splice(i, 1);
    this.#heads.splice(i, 1);
    this.#byPk.delete(pk);
  }

  insert(entry: Entry): void {
    this.remove(entry.pk);
    if (this.#capacity === 0) return;
    if (this.#bound !== null && compareSortKeys(entry.key, this.#bound, this.#order) > 0) return;
    this.#record(entry.pk, null);
    const i = this.#indexOf(entry.key);
    this.#entries.splice(i, 0, entry);
    this.#heads.splice(i, 0, entry.key[0] as KeyPart);
    this.#byPk.set(entry.pk, entry);
    if (this.#capacity !== null && this.#entries.length > this.#capacity) {
      const last = this.#entries.pop() as Entry;
      this.#heads.pop();
      this.#record(last.pk, last);
      this.#byPk.delete(last.pk);
      this.#bound = (this.#entries[this.#entries.length - 1] as Entry).key;
    }
  }

  /** How many rows fill() should read (0: none), and after which key. */
  gap(): { rows: number; after: readonly KeyPart[] } | null {
    if (this.#bound === null || this.#capacity === null || this.#entries.length >= this.#capacity) return null;
    return { rows: this.#capacity - this.#entries.length, after: this.#bound };
  }

  /** Appends the rows read after the bound (all sort after every entry); `more`: rows exist past them. */
  fill(entries: readonly Entry[], more: boolean): void {
    for (const e of entries) {
      this.#record(e.pk, this.#byPk.get(e.pk) ?? null);
      this.#entries.push(e);
      this.#heads.push(e.key[0] as KeyPart);
      this.#byPk.set(e.pk, e);
    }
    if (!more) this.#bound = null;
    else if (entries.length > 0) this.#bound = (entries[entries.length - 1] as Entry).key;
  }

  /** Position of the entry with this key (or where it would go). */
  indexOf(key: readonly KeyPart[]): number {
    return this.#indexOf(key);
  }

  /** The pks changed since the last call, each with its entry before the first change (null: absent). */
  takeChanges(): Map<string, Entry | null> {
    const out = this.#changes;
    this.#changes = new Map();
    return out;
  }

  #record(pk: string, before: Entry | null): void {
    if (!this.#changes.has(pk)) this.#changes.set(pk, before);
  }

  #indexOf(key: readonly KeyPart[]): number {
    const order = this.#order;
    const first = order[0];
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      let c = first === undefined ? 0 : compareForSort(this.#heads[mid] as KeyPart, key[0] as KeyPart, first.desc);
      if (c === 0 && order.length > 1) c = compareSortKeys((this.#entries[mid] as Entry).key, key, order);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
