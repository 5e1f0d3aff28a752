// Stabbing queries over intervals: which items' [lo, hi] contain a value.
// A centered interval tree, rebuilt lazily on the first lookup after items
// change (subscriptions change far less often than rows do): a lookup costs
// O(log n + k) for k hits. Values of one SQL type per index; `compare` orders them.

export interface Bound<V> {
  readonly value: V;
  readonly inclusive: boolean;
}

interface Item<T, V> {
  readonly item: T;
  /** null: unbounded. */
  readonly lo: Bound<V> | null;
  readonly hi: Bound<V> | null;
}

interface Node<T, V> {
  readonly center: V;
  /** Items containing `center`'s position (lo <= center <= hi), by lo ascending and by hi descending. */
  readonly byLo: readonly Item<T, V>[];
  readonly byHi: readonly Item<T, V>[];
  readonly left: Node<T, V> | null;
  readonly right: Node<T, V> | null;
}

export class IntervalIndex<T, V> {
  readonly #compare: (a: V, b: V) => number;
  readonly #items = new Map<T, Item<T, V>>();
  #root: Node<T, V> | null = null;
  /** Items with no finite bound at all: they contain every value. */
  #everything: Item<T, V>[] = [];
  #dirty = false;

  constructor(compare: (a: V, b: V) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.size;
  }

  /** Adds or replaces an item. An empty interval (lo above hi) contains nothing and is not stored. */
  set(item: T, lo: Bound<V> | null, hi: Bound<V> | null): void {
    this.delete(item);
    if (lo !== null && hi !== null) {
      const c = this.#compare(lo.value, hi.value);
      if (c > 0 || (c === 0 && !(lo.inclusive && hi.inclusive))) return;
    }
    this.#items.set(item, { item, lo, hi });
    this.#dirty = true;
  }

  delete(item: T): void {
    if (this.#items.delete(item)) this.#dirty = true;
  }

  /** Calls `hit` for each item whose interval contains `v`. */
  stab(v: V, hit: (item: T) => void): void {
    if (this.#dirty) this.#rebuild();
    for (const i of this.#everything) hit(i.item);
    let node = this.#root;
    while (node !== null) {
      const c = this.#compare(v, node.center);
      if (c < 0) {
        // Every item here has hi >= center > v: only lo can exclude it.
        for (const i of node.byLo) {
          if (i.lo !== null && this.#compare(i.lo.value, v) > 0) break;
          if (this.#contains(i, v)) hit(i.item);
        }
        node = node.left;
      } else if (c > 0) {
        for (const i of node.byHi) {
          if (i.hi !== null && this.#compare(i.hi.value, v) < 0) break;
          if (this.#contains(i, v)) hit(i.item);
        }
        node = node.right;
      } else {
        for (const i of node.byLo) if (this.#contains(i, v)) hit(i.item);
        return;
      }
    }
  }

  #contains(i: Item<T, V>, v: V): boolean {
    if (i.lo !== null) {
      const c = this.#compare(v, i.lo.value);
      if (c < 0 || (c === 0 && !i.lo.inclusive)) return false;
    }
    if (i.hi !== null) {
      const c = this.#compare(v, i.hi.value);
      if (c > 0 || (c === 0 && !i.hi.inclusive)) return false;
    }
    return true;
  }

  #rebuild(): void {
    const bounded: Item<T, V>[] = [];
    this.#everything = [];
    for (const i of this.#items.values()) (i.lo === null && i.hi === null ? this.#everything : bounded).push(i);
    this.#root = this.#build(bounded);
    this.#dirty = false;
  }

  #build(items: Item<T, V>[]): Node<T, V> | null {
    if (items.length === 0) return null;
    const points: V[] = [];
    for (const i of items) {
      if (i.lo !== null) points.push(i.lo.value);
      if (i.hi !== null) points.push(i.hi.value);
    }
    points.sort(this.#compare);
    const center = points[points.length >> 1] as V;
    const here: Item<T, V>[] = [];
    const left: Item<T, V>[] = [];
    const right: Item<T, V>[] = [];
    for (const i of items) {
      if (i.hi !== null && this.#compare(i.hi.value, center) < 0) left.push(i);
      else if (i.lo !== null && this.#compare(i.lo.value, center) > 0) right.push(i);
      else here.push(i);
    }
    // Unbounded ends first: they can never stop a scan.
    const byLo = [...here].sort((a, b) => (a.lo === null ? (b.lo === null ? 0 : -1) : b.lo === null ? 1 : this.#compare(a.lo.value, b.lo.value)));
    const byHi = [...here].sort((a, b) => (a.hi === null ? (b.hi === null ? 0 : -1) : b.hi === null ? 1 : this.#compare(b.hi.value, a.hi.value)));
    return { center, byLo, byHi, left: this.#build(left), right: this.#build(right) };
  }
}
