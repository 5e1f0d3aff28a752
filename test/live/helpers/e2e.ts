// Helpers for the live-query end-to-end tests (test/e2e/live-*.test.ts):
// a small project written into the test's folder, waiting on events with a
// deadline, a WebSocket factory whose sockets a test can drop.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import WebSocket from "ws";
import type { SocketFactory, SocketLike } from "../../../src/client/client.js";

/** A project with one key-value entity `item` (put/remove) and the view `items` with these queries (SQL, or SQL and an HTTP route). */
export function writeItemsProject(dir: string, queries: Record<string, string | { sql: string; http: string }>): string {
  const project = join(dir, "project");
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "item.ts"), `import { keyValueEntity, view } from "calyx";

export const item = keyValueEntity({
  name: "item",
  initialState: (): Record<string, unknown> | null => null,
  commands: {
    put: { http: "POST /items/:id", handler: (_s, c: Record<string, unknown>, ctx) => ctx.update(c).reply("ok") },
    remove: { http: "DELETE /items/:id", handler: (_s, _c, ctx) => ctx.delete().reply("ok") },
  },
});

export const items = view({
  name: "items",
  from: item,
  queries: ${JSON.stringify(Object.fromEntries(Object.entries(queries).map(([k, q]) => [k, typeof q === "string" ? { sql: q } : q])), null, 2)},
});
`);
  return project;
}

/** Resolves when `check()` is true, re-checking whenever `poke` is called; rejects after the deadline. */
export class Waiter {
  #waits: { check: () => boolean; resolve: () => void }[] = [];

  poke(): void {
    const still = [];
    for (const w of this.#waits) {
      if (w.check()) w.resolve();
      else still.push(w);
    }
    this.#waits = still;
  }

  until(check: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)), deadlineMs);
      this.#waits.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

/** A `ws` factory that remembers its sockets (to drop them) and every message received. */
export function recordingSockets(onMessage?: (m: Record<string, unknown>) => void): { factory: SocketFactory; sockets: WebSocket[]; received: Record<string, unknown>[] } {
  const sockets: WebSocket[] = [];
  const received: Record<string, unknown>[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
      this.on("message", (data) => {
        const parsed = JSON.parse(String(data)) as Record<string, unknown> | Record<string, unknown>[];
        for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
          received.push(m);
          onMessage?.(m);
        }
      });
    }
  }
  return { factory: Recording as unknown as SocketFactory & (new (url: string) => SocketLike), sockets, received };
}

/** A port that was free a moment ago (to restart a server on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
