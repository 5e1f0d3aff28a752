// Messages between the benchmark driver and its load-generator process(es).
// The generator runs in its own process so that its CPU is measured apart
// from the driver's and the server's.
import type { DatasetSpec } from "./dataset.js";
import type { Workload } from "./workload.js";

interface JobBase {
  readonly host: string;
  readonly port: number;
  /**
   * Servers whose CPU (all threads) is sampled at the edges of the measured
   * window, each as its processes (most servers are one; Restate is its
   * server and the SDK service): the server under test first, then the
   * others kept running in the session.
   */
  readonly serverPids: readonly (readonly number[])[];
  readonly seed: number;
}

/** Fixed arrival rate; latency measured from each request's intended send time. */
export interface OpenJob extends JobBase {
  readonly kind: "open";
  readonly workload: Workload;
  /** Requests per second offered, evenly spaced. */
  readonly rate: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** How long to wait for stragglers after the last send. */
  readonly drainMs: number;
  /** Keep-alive connections, one request in flight on each (no pipelining). */
  readonly connections: number;
  /** Stop early (the server is saturated) once a request has waited this long unsent. */
  readonly abortBacklogMs: number;
}

/** Each connection sends its next request as soon as the previous answer arrives. */
export interface ClosedJob extends JobBase {
  readonly kind: "closed";
  readonly workload: Workload;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Writes customers [from, to) through the service's own POST API, closed loop. */
export interface PreloadJob extends JobBase {
  readonly kind: "preload";
  readonly dataset: DatasetSpec;
  readonly from: number;
  readonly to: number;
  readonly connections: number;
}

export type Job = OpenJob | ClosedJob | PreloadJob;

export interface ClassRaw {
  readonly name: string;
  /** Responses to requests whose intended send time fell in the measured window. */
  readonly count: number;
  /** Of those, responses with status >= 400 or failed connections. */
  readonly errors: number;
  readonly statuses: Record<string, number>;
  /** Intended send → response, µs, HDR histogram (compressed base64). */
  readonly latency: string;
  /** Actual send → response, µs: what the server and network took. */
  readonly service: string;
}

export interface LoadRaw {
  readonly kind: Job["kind"];
  readonly classes: readonly ClassRaw[];
  readonly windowMs: number;
  /** Requests sent whose intended time fell in the window. */
  readonly sent: number;
  /** Responses that arrived during the window (throughput). */
  readonly completedInWindow: number;
  /** Timer/event-loop lateness of the generator: dispatch time − intended time, µs. */
  readonly genLag: string;
  /** Time a due request waited for a free connection (server-caused), µs. */
  readonly connWait: string;
  /** Window requests never answered (lower-bound latency recorded). */
  readonly timedOut: number;
  /** Window requests never sent (lower-bound latency recorded). */
  readonly unsent: number;
  /** Stopped early because the backlog exceeded abortBacklogMs. */
  readonly aborted: boolean;
  /** Largest number of due requests waiting for a connection. */
  readonly maxBacklog: number;
  readonly genCpuMs: number;
  /** Event-loop utilisation of the generator over the window (0..1). */
  readonly genElu: number;
  readonly serverCpuMs: readonly (number | null)[];
  /** CPU ms of the main thread of the server under test (its first process, serverPids[0][0]). */
  readonly serverMainCpuMs: number | null;
  /** Fraction of all cores busy over the window (0..1). */
  readonly machineBusy: number;
  readonly connections: number;
  readonly socketErrors: number;
  /** Preload only: elapsed ms for the whole job. */
  readonly elapsedMs: number;
}

export type GeneratorMessage =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly result: LoadRaw }
  | { readonly type: "error"; readonly message: string };
