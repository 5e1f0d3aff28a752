// Journal tailing shared by both stores. A tail reads the journal from its own
// cursor, chunk by chunk, and sleeps when it has caught up until the store
// reports a commit that appended to the journal. It never buffers entries for
// a slow listener (the journal on disk is the buffer) and never makes the
// committer wait.
import type { JournalEntry, TailHandle, TailListener } from "./store.js";

/** Entries handed to a listener at most per call. */
export const TAIL_CHUNK_ENTRIES_MAX = 1024;

export class JournalTail implements TailHandle {
  readonly done: Promise<void>;
  #cursor: number;
  #stopped = false;
  #wake: (() => void) | undefined;
  readonly #read: (from: number, limit: number) => JournalEntry[];
  readonly #listener: TailListener;
  readonly #onStop: (tail: JournalTail) => void;

  constructor(
    fromGlobalSeq: number,
    listener: TailListener,
    read: (from: number, limit: number) => JournalEntry[],
    onStop: (tail: JournalTail) => void,
  ) {
    this.#cursor = Math.max(0, fromGlobalSeq);
    this.#listener = listener;
    this.#read = read;
    this.#onStop = onStop;
    this.done = this.#run();
    // A listener error rejects `done`; make sure that is never an unhandled
    // rejection when nobody awaits it (the error is still visible through done).
    this.done.catch(() => undefined);
  }

  /** Called by the store after a commit that appended to the journal. */
  notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.notify();
  }

  async #run(): Promise<void> {
    try {
      // Start asynchronously: tail() returns before the first delivery.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (!this.#stopped) {
        const entries = this.#read(this.#cursor, TAIL_CHUNK_ENTRIES_MAX);
        const last = entries[entries.length - 1];
        if (last === undefined) {
          // Caught up. Set the waiter in the same tick as the empty read: a
          // commit completes in a later tick, so no notification is missed.
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        this.#cursor = last.globalSeq + 1;
        const r = this.#listener(entries);
        if (r !== undefined) await r;
        // Yield between chunks so a long catch-up does not starve the event loop.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#stopped = true;
      this.#onStop(this);
    }
  }
}
