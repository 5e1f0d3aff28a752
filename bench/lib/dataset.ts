// The customer data set every scenario and every server uses, defined once so
// that a preloaded Calyx, a preloaded SQLite baseline and the load generator
// agree on ids and names without talking to each other.
//
// Customer i has id `c<i>` and name `Name<i % names>`: with the default of ten
// customers per name, a by-name query returns about ten rows. Writes in the
// mixed scenarios update a random existing customer and give it a random name
// from the same pool, so the data set stays the same size and shape for the
// whole run (every write moves a row in the by-name index).

/** How many customers share one name when the data set is built. */
export const CUSTOMERS_PER_NAME = 10;

export interface DatasetSpec {
  /** Customers preloaded, ids c0 … c<customers-1>. */
  readonly customers: number;
  /** Distinct names; default customers / CUSTOMERS_PER_NAME. */
  readonly names?: number;
  /** Where the server under test reads and writes one customer; default CUSTOMER_PATHS. */
  readonly paths?: CustomerPaths;
}

/**
 * One customer's URL is `prefix + id + suffix`, for GET (read) and POST
 * (create or update). Calyx and the SQLite baseline serve /customers/<id>
 * for both; Restate's virtual object has /customer/<id>/get and
 * /customer/<id>/create.
 */
export interface CustomerPaths {
  readonly get: readonly [prefix: string, suffix: string];
  readonly post: readonly [prefix: string, suffix: string];
}

export const CUSTOMER_PATHS: CustomerPaths = { get: ["/customers/", ""], post: ["/customers/", ""] };

export function customerPath(spec: DatasetSpec, method: "get" | "post", id: string): string {
  const [prefix, suffix] = (spec.paths ?? CUSTOMER_PATHS)[method];
  return prefix + id + suffix;
}

export function nameCount(spec: DatasetSpec): number {
  return spec.names ?? Math.max(1, Math.floor(spec.customers / CUSTOMERS_PER_NAME));
}

export function customerId(i: number): string {
  return `c${i}`;
}

export function customerName(k: number): string {
  return `Name${k}`;
}

export function customerEmail(i: number, version: number): string {
  return `c${i}.${version}@example.com`;
}

/** The record customer i holds right after preloading. */
export function preloadRecord(i: number, spec: DatasetSpec): { id: string; name: string; email: string } {
  return { id: customerId(i), name: customerName(i % nameCount(spec)), email: customerEmail(i, 0) };
}

/** xorshift32: deterministic, allocation-free, good enough to pick keys. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = (seed | 0) || 0x9e3779b9;
  }
  /** A float in [0, 1). */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x;
    return (x >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
