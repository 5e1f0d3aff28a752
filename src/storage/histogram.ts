// A fixed-bucket latency histogram, cheap enough to record every commit:
// counts per upper bound (seconds, doubling from 0.25 ms to ~1 s, then +Inf),
// a sum and a count — what Prometheus' histogram type carries.

/** Upper bounds in seconds: 0.25 ms · 2^i up to ≈ 1 s. */
export const LATENCY_BOUNDS_S: readonly number[] = Array.from({ length: 13 }, (_, i) => 0.00025 * 2 ** i);

export interface HistogramSnapshot {
  /** Upper bounds (seconds) of the finite buckets. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class LatencyHistogram {
  readonly #counts = new Array<number>(LATENCY_BOUNDS_S.length + 1).fill(0);
  #sum = 0;
  #count = 0;

  /** Records one duration, in milliseconds. */
  observeMs(ms: number): void {
    const s = ms / 1000;
    let i = 0;
    while (i < LATENCY_BOUNDS_S.length && s > (LATENCY_BOUNDS_S[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += s;
    this.#count++;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: LATENCY_BOUNDS_S, counts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}
