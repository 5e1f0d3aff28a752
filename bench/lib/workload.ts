// Operation classes and the raw HTTP/1.1 requests that carry them. The load
// generator picks an operation per request by weight and writes these bytes
// to a keep-alive socket; building a request is a few string concatenations.
import { CUSTOMER_PATHS, customerEmail, customerId, customerName, nameCount, Rng, type CustomerPaths, type DatasetSpec } from "./dataset.js";

/**
 * One operation class. Latency is reported per class.
 * - `get-id`: GET /customers/<random existing id>
 * - `get-name`: GET /customers/by-name/<random name>
 * - `post`: POST /customers/<random existing id, or `hotId`> with a random name
 * (get-id and post at the dataset's `paths` when the server has other URLs)
 * - `get-page`: GET <pagePath>/<random name> (a paged ORDER BY … LIMIT view query)
 * - `get-path`: GET <path> (a fixed path, e.g. a health check)
 */
export interface OpSpec {
  readonly name: string;
  readonly weight: number;
  readonly kind: "get-id" | "get-name" | "post" | "get-page" | "get-path";
  /** `post` only: every write goes to this one id (the hot-entity scenario). */
  readonly hotId?: string;
  /** `get-page` / `get-path`: the path (prefix). */
  readonly path?: string;
}

export interface Workload {
  readonly ops: readonly OpSpec[];
  readonly dataset: DatasetSpec;
}

/** Builds request bytes for one target host; one per generator connection set. */
export class RequestFactory {
  readonly #ops: readonly OpSpec[];
  readonly #cumulative: number[];
  readonly #customers: number;
  readonly #names: number;
  readonly #host: string;
  readonly #paths: CustomerPaths;
  readonly #rng: Rng;
  #version = 0;

  constructor(workload: Workload, host: string, seed: number) {
    if (workload.ops.length === 0) throw new Error("a workload needs at least one operation");
    this.#ops = workload.ops;
    const total = workload.ops.reduce((s, o) => s + o.weight, 0);
    let acc = 0;
    this.#cumulative = workload.ops.map((o) => (acc += o.weight / total));
    this.#customers = Math.max(1, workload.dataset.customers);
    this.#names = nameCount(workload.dataset);
    this.#host = host;
    this.#paths = workload.dataset.paths ?? CUSTOMER_PATHS;
    this.#rng = new Rng(seed);
  }

  /** Index of the next operation class, chosen by weight. */
  pick(): number {
    const r = this.#rng.next();
    const c = this.#cumulative;
    for (let i = 0; i < c.length - 1; i++) if (r < (c[i] as number)) return i;
    return c.length - 1;
  }

  /** The raw request for class `cls` (ASCII, so it can be written as latin1). */
  build(cls: number): string {
    const op = this.#ops[cls] as OpSpec;
    switch (op.kind) {
      case "get-id":
        return this.#get(this.#paths.get[0] + customerId(this.#rng.int(this.#customers)) + this.#paths.get[1]);
      case "get-name":
        return this.#get(`/customers/by-name/${customerName(this.#rng.int(this.#names))}`);
      case "get-page":
        return this.#get(`${op.path ?? "/customers/page"}/${customerName(this.#rng.int(this.#names))}`);
      case "get-path":
        return this.#get(op.path ?? "/");
      case "post": {
        const i = this.#rng.int(this.#customers);
        const id = op.hotId ?? customerId(i);
        const body = `{"name":"${customerName(this.#rng.int(this.#names))}","email":"${customerEmail(i, ++this.#version)}"}`;
        return postRequest(this.#host, this.#paths.post[0] + id + this.#paths.post[1], body);
      }
    }
  }

  #get(path: string): string {
    return `GET ${path} HTTP/1.1\r\nHost: ${this.#host}\r\n\r\n`;
  }
}

export function postRequest(host: string, path: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The seed's mix: 75% reads (half by id, half by name), 25% writes. */
export function seedMix(): OpSpec[] {
  return [
    { name: "read-id", weight: 0.375, kind: "get-id" },
    { name: "read-name", weight: 0.375, kind: "get-name" },
    { name: "write", weight: 0.25, kind: "post" },
  ];
}
