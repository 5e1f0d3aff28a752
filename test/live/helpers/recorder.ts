// A LiveSubscriber that keeps the client-side result (the client library's
// ResultSet) and records everything it was sent.
import type { LiveSubscriber, LiveSubscription, Subscribed } from "../../../src/live/live-queries.js";
import type { Change, Snapshot } from "../../../src/live/pipeline.js";
import { ResultSet } from "../../../src/client/result-set.js";
import type { ChangeOp } from "../../../src/client/protocol.js";

export class Recorder implements LiveSubscriber {
  readonly result = new ResultSet();
  /** Every change received, with its ops parsed. */
  readonly changes: (Change & { ops: ChangeOp[] })[] = [];
  readonly resets: string[] = [];
  ended: (Error & { code: string }) | undefined;
  seq = 0;
  stream = "";
  handle: LiveSubscription | undefined;
  /** Waiting for a snapshot (the view is being built). */
  pending = false;

  /** Takes the subscription's start (snapshot or resumed changes). */
  begin(subscribed: Subscribed): this {
    this.handle = subscribed.subscription;
    const s = subscribed.start;
    if (s.kind === "snapshot") this.#snapshot(s.snapshot);
    else if (s.kind === "pending") this.pending = true;
    else {
      this.stream = s.stream;
      this.seq = s.seq;
      for (const c of s.changes) this.change(c);
    }
    return this;
  }

  #snapshot(s: Snapshot): void {
    this.result.reset(s.rows.map((r) => ({ key: r.key, row: { ...r.row } })));
    this.stream = s.stream;
    this.seq = s.seq;
  }

  change(change: Change): void {
    if (change.seq !== this.seq + 1) throw new Error(`seq ${change.seq} after ${this.seq}`);
    this.seq = change.seq;
    // Through JSON, as a client sees it.
    const ops = JSON.parse(change.json) as ChangeOp[];
    this.changes.push({ ...change, ops });
    this.result.apply(ops);
  }

  reset(reason: string): void {
    this.resets.push(reason);
    this.pending = true;
  }

  snapshot(snapshot: Snapshot): void {
    this.pending = false;
    this.#snapshot(snapshot);
    this.onSnapshot?.();
  }

  /** Called after a late snapshot (tests wait on it). */
  onSnapshot: (() => void) | undefined;

  end(error: Error & { code: string }): void {
    this.ended = error;
  }

  keys(): string[] {
    return this.result.entries.map((e) => e.key);
  }
}
