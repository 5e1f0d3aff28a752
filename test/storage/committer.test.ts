import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import t from "tap";
import type { Test } from "tap";
import { Committer, type CommitterOptions } from "../../src/storage/committer.js";
import { encodeKey } from "../../src/storage/key-codec.js";
import { journalKey, stateKey } from "../../src/storage/layout.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import type { CommitResult, CommitTxn, EntityWrite, FaultInjection, JournalRecord, Store } from "../../src/storage/store.js";

type TestStore = Store & FaultInjection;

const JOURNAL_WRITER = fileURLToPath(new URL("./fixtures/journal-writer.ts", import.meta.url));

const stores: Record<string, (t: Test) => TestStore> = {
  lmdb: (t) => openLmdbStore({ path: t.testdir(), durability: "full" }),
  memory: () => new MemoryStore({ durability: "full" }),
};

type WriteFn = <T>(fn: (txn: CommitTxn) => T) => Promise<T>;

/** `store` with its write() replaced by `write(own)` (own: the store's write); everything else passes through. */
function withWrite<S extends Store>(store: S, write: (own: WriteFn) => WriteFn): S {
  const replaced = write((fn) => store.write(fn));
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "write") return replaced;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A store that counts its write transactions. */
function counting(store: TestStore): { store: TestStore; transactions: () => number } {
  let n = 0;
  const proxy = withWrite(store, (own) => (fn) => {
    n++;
    return own(fn);
  });
  return { store: proxy, transactions: () => n };
}

function kv(id: string, baseSeq: number, value: unknown, extra: Partial<EntityWrite> = {}): EntityWrite {
  return { component: "customer", id, baseSeq, state: { value }, events: [], ...extra };
}

interface Logged {
  message: string;
  fields: Readonly<Record<string, unknown>>;
}

function setup(t: Test, make: (t: Test) => TestStore, options: CommitterOptions = {}): { store: TestStore; committer: Committer; logged: Logged[]; transactions: () => number } {
  const { store, transactions } = counting(make(t));
  const logged: Logged[] = [];
  const committer = new Committer(store, { logError: (message, fields) => logged.push({ message, fields }), ...options });
  committer.start();
  t.teardown(async () => {
    await committer.stop();
    await store.close();
  });
  return { store, committer, logged, transactions };
}

/** Every journal entry is in its entity's history (replayEntity), globalSeqs are 1..head without gaps. */
function checkJournal(t: Test, store: Store): void {
  const head = store.journalHead();
  const all = store.readJournal(1, head + 10);
  t.same(all.map((e) => e.globalSeq), Array.from({ length: head }, (_, i) => i + 1), "journal 1..head, no gaps or duplicates");
  const byEntity = new Map<string, number[]>();
  for (const e of all) {
    const key = `${e.component}/${e.id}`;
    byEntity.set(key, [...(byEntity.get(key) ?? []), e.globalSeq]);
  }
  for (const [key, seqs] of byEntity) {
    const [component, id] = key.split("/") as [string, string];
    t.same(store.replayEntity(component, id).map((e) => e.globalSeq), seqs, `history of ${key} matches the journal`);
  }
}

for (const [kind, make] of Object.entries(stores)) {
  void t.test(`${kind}: group commit`, async (t) => {
    void t.test("writes submitted together share one transaction and get ordered sequences", async (t) => {
      const { store, committer, transactions } = setup(t, make);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => committer.submit(kv(`c${i}`, 0, { i }))));
      t.ok(transactions() <= 2, `100 writes in ${transactions()} transaction(s)`);
      t.same(results.map((r) => r.seq), Array(100).fill(1));
      t.same(results.map((r) => r.globalSeq), Array.from({ length: 100 }, (_, i) => i + 1), "journal order = submission order");
      t.same(store.getState("customer", "c42"), { seq: 1, state: { i: 42 }, last: 43 }, "last: where its write starts in the journal");
      checkJournal(t, store);
    });

    void t.test("batchMax bounds a transaction", async (t) => {
      const { committer, transactions } = setup(t, make, { batchMax: 10 });
      await Promise.all(Array.from({ length: 95 }, (_, i) => committer.submit(kv(`c${i}`, 0, i))));
      t.ok(transactions() >= 10, `95 writes, batchMax 10: ${transactions()} transactions`);
    });

    void t.test("pipelined writes of one entity in one batch", async (t) => {
      const { store, committer } = setup(t, make);
      const r = await Promise.all([0, 1, 2].map((base) => committer.submit(kv("x", base, base + 1))));
      t.same(r.map((x) => x.seq), [1, 2, 3]);
      t.same(store.getState("customer", "x"), { seq: 3, state: 3, last: 3 });
      t.same(store.replayEntity("customer", "x").map((e) => [e.entitySeq, e.type, e.payload]), [[1, "state", 1], [2, "state", 2], [3, "state", 3]]);
    });

    void t.test("events: one write, several records with the same entitySeq; state snapshot optional", async (t) => {
      const { store, committer } = setup(t, make);
      const events = [{ type: "Created", payload: { n: "a" } }, { type: "Renamed", payload: { n: "b" } }];
      const r1 = await committer.submit({ component: "acct", id: "1", baseSeq: 0, events, state: { value: { n: "b" } } });
      t.same(r1, { seq: 1, globalSeq: 2 });
      const r2 = await committer.submit({ component: "acct", id: "1", baseSeq: 1, events: [{ type: "Closed", payload: null }] });
      t.same(r2, { seq: 2, globalSeq: 3 });
      t.same(store.getState("acct", "1"), { seq: 2, state: { n: "b" }, last: 3 }, "state unchanged, sequence moved on");
      const replay = store.replayEntity("acct", "1");
      t.same(replay.map((e) => [e.globalSeq, e.entitySeq, e.type]), [[1, 1, "Created"], [2, 1, "Renamed"], [3, 2, "Closed"]]);
      t.ok(replay.every((e) => e.partition === 0 && typeof e.time === "number"));
    });

    void t.test("delete leaves a tombstone; the sequence continues", async (t) => {
      const { store, committer } = setup(t, make);
      await committer.submit(kv("x", 0, "v"));
      const del = await committer.submit({ component: "customer", id: "x", baseSeq: 1, state: { deleted: true }, events: [] });
      t.equal(del.seq, 2);
      const tomb = store.getState("customer", "x");
      t.equal(tomb?.seq, 2);
      t.equal(tomb?.deleted, true);
      t.equal(tomb?.state, undefined);
      await t.rejects(committer.submit(kv("x", 0, "again")), { code: "ERR_WRITER_CONFLICT" }, "baseSeq 0 after a delete is a conflict");
      t.same(await committer.submit(kv("x", 2, "again")), { seq: 3, globalSeq: 3 });
      t.same(store.replayEntity("customer", "x").map((e) => e.type), ["state", "delete", "state"]);
    });

    void t.test("a write with no state and no events changes nothing but runs the guard and the hook", async (t) => {
      let hookCalls = 0;
      const { store, committer } = setup(t, make, { hook: { apply: () => ++hookCalls } });
      await committer.submit(kv("x", 0, 1));
      t.same(await committer.submit({ component: "customer", id: "x", baseSeq: 1, events: [] }), { seq: 1, globalSeq: 1 }, "globalSeq is the current head");
      await t.rejects(committer.submit({ component: "customer", id: "x", baseSeq: 0, events: [] }), { code: "ERR_WRITER_CONFLICT" });
      t.equal(hookCalls, 2);
      t.equal(store.journalHead(), 1);
    });

    void t.test("single-writer guard: a stale baseSeq fails that write only, loudly", async (t) => {
      const { store, committer, logged } = setup(t, make);
      await committer.submit(kv("x", 0, "first"));
      const [a, b, c] = await Promise.allSettled([committer.submit(kv("y", 0, "y")), committer.submit(kv("x", 0, "stale")), committer.submit(kv("z", 0, "z"))]);
      t.equal(a?.status, "fulfilled");
      t.equal(c?.status, "fulfilled");
      t.equal(b?.status, "rejected");
      t.match((b as PromiseRejectedResult).reason, { code: "ERR_WRITER_CONFLICT", message: /customer\/x.*sequence 0.*holds 1/ });
      t.same(store.getState("customer", "x"), { seq: 1, state: "first", last: 1 }, "nothing overwritten");
      t.equal(logged.length, 1);
      t.match(logged[0], { message: /single-writer guard/, fields: { component: "customer", id: "x", baseSeq: 0, storedSeq: 1 } });
      checkJournal(t, store);
    });

    void t.test("a throwing hook fails its write only; the rest of the batch commits, no journal gap", async (t) => {
      const hook = {
        apply(txn: Parameters<NonNullable<CommitterOptions["hook"]>["apply"]>[0], w: EntityWrite): unknown {
          for (const v of w.views ?? []) txn.put("rows", encodeKey([v.table, v.pk]), v.row);
          if (w.id === "bad") throw new Error("index build failed");
          return `rows:${w.views?.length ?? 0}`;
        },
      };
      const { store, committer, logged } = setup(t, make, { hook });
      const views = (id: string) => ({ views: [{ table: "customers", pk: id, row: { id } }] });
      const settled = await Promise.allSettled([
        committer.submit(kv("a", 0, "a", views("a"))),
        committer.submit(kv("bad", 0, "bad", views("bad"))),
        committer.submit(kv("bad", 1, "dependent", views("bad"))), // computed on the failed write
        committer.submit(kv("c", 0, "c", views("c"))),
      ]);
      t.same(settled.map((s) => s.status), ["fulfilled", "rejected", "rejected", "fulfilled"]);
      t.match((settled[1] as PromiseRejectedResult).reason, { code: "ERR_HOOK_FAILED", message: /index build failed/ });
      t.match((settled[2] as PromiseRejectedResult).reason, { code: "ERR_WRITER_CONFLICT", message: /earlier write of this entity failed/ });
      t.equal(logged.length, 0, "the dependent conflict is not reported as a routing bug");
      t.equal(store.getState("customer", "bad"), undefined, "state rolled back");
      t.equal(store.read((txn) => txn.get("rows", encodeKey(["customers", "bad"]))), undefined, "hook's row rolled back");
      t.same(store.read((txn) => txn.get("rows", encodeKey(["customers", "c"]))), { id: "c" });
      t.same((settled[3] as PromiseFulfilledResult<CommitResult>).value, { seq: 1, globalSeq: 2 }, "no gap where the failed write was");
      checkJournal(t, store);
    });

    void t.test("an unserializable value fails its write only (ERR_WRITE_INVALID)", async (t) => {
      const { store, committer } = setup(t, make);
      const settled = await Promise.allSettled([committer.submit(kv("a", 0, "a")), committer.submit(kv("b", 0, Symbol("nope"))), committer.submit(kv("c", 0, "c"))]);
      t.same(settled.map((s) => s.status), ["fulfilled", "rejected", "fulfilled"]);
      t.match((settled[1] as PromiseRejectedResult).reason, { code: "ERR_WRITE_INVALID" });
      t.equal(store.getState("customer", "b"), undefined);
      checkJournal(t, store);
    });

    void t.test("an oversized entity id fails its write with ERR_KEY_TOO_LARGE", async (t) => {
      const { committer } = setup(t, make);
      await t.rejects(committer.submit(kv("x".repeat(3000), 0, 1)), { code: "ERR_KEY_TOO_LARGE" });
      t.same(await committer.submit(kv("ok", 0, 1)), { seq: 1, globalSeq: 1 });
    });

    void t.test("a failed commit rejects the whole batch; later writes computed on it fail the guard", async (t) => {
      const { store, committer } = setup(t, make);
      await committer.submit(kv("x", 0, "v1"));
      store.failNextCommit(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
      const settled = await Promise.allSettled([committer.submit(kv("x", 1, "v2")), committer.submit(kv("y", 0, "y"))]);
      t.same(settled.map((s) => s.status), ["rejected", "rejected"]);
      for (const s of settled) t.match((s as PromiseRejectedResult).reason, { code: "ERR_DISK_FULL" });
      t.same(store.getState("customer", "x"), { seq: 1, state: "v1", last: 1 }, "acknowledged data intact");
      // the worker pipelined v3 on v2, which failed
      await t.rejects(committer.submit(kv("x", 2, "v3")), { code: "ERR_WRITER_CONFLICT" });
      // after reloading (seq 1) the writer succeeds, and the journal has no gap
      t.same(await committer.submit(kv("x", 1, "v2 again")), { seq: 2, globalSeq: 2 });
      checkJournal(t, store);
    });

    void t.test("stats: commits, writes, failures and the time they took", async (t) => {
      const { store, committer, transactions } = setup(t, make, { batchMax: 10 });
      const empty = committer.stats();
      t.match(empty, { commits: 0, failedCommits: 0, writes: 0, pending: 0, applySeconds: 0 });
      t.equal(empty.duration.count, 0);
      await Promise.all(Array.from({ length: 35 }, (_, i) => committer.submit(kv(`c${i}`, 0, i))));
      const s = committer.stats();
      t.equal(s.commits, transactions(), "one commit per write transaction");
      t.ok(s.commits >= 4, `35 writes, batchMax 10: ${s.commits} commits`);
      t.equal(s.writes, 35);
      t.equal(s.pending, 0);
      for (const h of [s.duration, s.sync]) {
        t.equal(h.count, s.commits, "one observation per commit");
        t.equal(h.counts.reduce((a, b) => a + b, 0), h.count, "the buckets hold every observation");
        t.equal(h.counts.length, h.bounds.length + 1, "one bucket above the bounds");
        t.ok(h.sum > 0);
      }
      t.ok(s.sync.sum <= s.duration.sum, "syncing is the end of a batch's time");
      t.ok(s.applySeconds > 0 && s.applySeconds < s.duration.sum);
      // A failed commit: counted apart, its writes not counted as committed.
      store.failNextCommit(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
      await t.rejects(committer.submit(kv("x", 0, "lost")), { code: "ERR_DISK_FULL" });
      const f = committer.stats();
      t.match(f, { commits: s.commits, failedCommits: 1, writes: 35 });
      t.equal(f.duration.count, s.commits + 1, "a failed batch's time is recorded too");
    });

    void t.test("backpressure: a full queue rejects at once with a retry hint", async (t) => {
      const { committer } = setup(t, make, { queueMax: 5 });
      const accepted = Array.from({ length: 5 }, (_, i) => committer.submit(kv(`c${i}`, 0, i)));
      const refused = committer.submit(kv("over", 0, 1));
      await t.rejects(refused, { code: "ERR_BACKPRESSURE", retryAfterMs: Number });
      const e = (await refused.catch((x: unknown) => x)) as { retryAfterMs: number; retryable: boolean };
      t.ok(e.retryAfterMs >= 1);
      t.equal(e.retryable, true);
      await Promise.all(accepted);
      t.same(await committer.submit(kv("later", 0, 1)), { seq: 1, globalSeq: 6 }, "accepted again once drained");
    });

    void t.test("stop drains the queue, then refuses", async (t) => {
      const { store, committer } = setup(t, make, { batchMax: 7 });
      const writes = Array.from({ length: 50 }, (_, i) => committer.submit(kv(`c${i}`, 0, i)));
      let resolved = 0;
      for (const w of writes) void w.then(() => resolved++);
      await committer.stop();
      await Promise.resolve();
      t.equal(resolved, 50, "every queued write committed before stop resolved");
      t.equal(store.journalHead(), 50);
      await t.rejects(committer.submit(kv("late", 0, 1)), { code: "ERR_STORE_CLOSED" });
    });

    void t.test("onDurable: successful writes of each batch, in commit order, with hook results", async (t) => {
      const { committer, logged } = setup(t, make, { hook: { apply: (_txn, w) => `hook:${w.id}` } });
      const batches: string[][] = [];
      committer.onDurable(() => {
        throw new Error("a broken listener");
      });
      const off = committer.onDurable((batch) => batches.push(batch.map((b) => `${b.write.id}@${b.result.globalSeq}:${String(b.hookResult)}`)));
      await Promise.allSettled([committer.submit(kv("a", 0, 1)), committer.submit(kv("a", 5, 1)), committer.submit(kv("b", 0, 1))]);
      t.same(batches.flat(), ["a@1:hook:a", "b@2:hook:b"]);
      t.ok(logged.some((l) => /listener threw/.test(l.message)), "a throwing listener is logged, not fatal");
      off();
      await committer.submit(kv("c", 0, 1));
      t.equal(batches.flat().length, 2, "unsubscribed");
    });

    void t.test("observe: applied inside the transaction (its reads see the batch), then settled with the outcome, before the writes resolve", async (t) => {
      const { store, committer, logged } = setup(t, make);
      const seen: string[] = [];
      let resolvedAtSettle = -1;
      let resolved = 0;
      committer.observe({
        applied: () => {
          throw new Error("a broken observer");
        },
        settled: () => undefined,
      });
      committer.observe({
        applied: (batch, txn) => {
          for (const b of batch) {
            const stored = txn.get("state", stateKey(b.write.component, b.write.id)) as { state?: unknown } | undefined;
            seen.push(`applied ${b.write.id}=${JSON.stringify(stored?.state)}`);
          }
        },
        settled: (durable) => {
          resolvedAtSettle = resolved;
          seen.push(`settled ${durable}`);
        },
      });
      const writes = [committer.submit(kv("a", 0, "one")), committer.submit(kv("b", 0, "two"))];
      for (const w of writes) void w.then(() => resolved++);
      await Promise.all(writes);
      t.same(seen, ['applied a="one"', 'applied b="two"', "settled true"]);
      t.equal(resolvedAtSettle, 0, "settled runs before any write of the batch resolves");
      t.ok(logged.some((l) => /observer threw/.test(l.message)), "a throwing observer is logged, not fatal");

      seen.length = 0;
      store.failNextCommit(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
      await t.rejects(committer.submit(kv("a", 1, "lost")), { code: "ERR_DISK_FULL" });
      t.same(seen, ['applied a="lost"', "settled false"], "a failed commit settles false");
      t.same(store.getState("customer", "a"), { seq: 1, state: "one", last: 1 });
    });
  });
}

void t.test("a new committer continues the journal of a reopened store", async (t) => {
  const dir = t.testdir();
  const s1 = openLmdbStore({ path: dir });
  const c1 = new Committer(s1);
  c1.start();
  await c1.submit(kv("x", 0, 1));
  await c1.submit(kv("x", 1, 2));
  await c1.stop();
  await s1.close();
  const s2 = openLmdbStore({ path: dir });
  const c2 = new Committer(s2);
  c2.start();
  t.same(await c2.submit(kv("x", 2, 3)), { seq: 3, globalSeq: 3 });
  await c2.stop();
  await s2.close();
});

void t.test("a store closed under the committer fails queued writes instead of hanging", async (t) => {
  const store = new MemoryStore();
  const c = new Committer(store);
  c.start();
  await store.close();
  await t.rejects(c.submit(kv("x", 0, 1)), { code: "ERR_STORE_CLOSED" });
  await t.rejects(c.submit(kv("y", 0, 1)), { code: "ERR_STORE_CLOSED" });
  await c.stop();
});

void t.test("an unexpected failure inside the batch fails the batch, never hangs it", async (t) => {
  const inner = new MemoryStore();
  const broken = withWrite(inner, (own) => (fn) =>
    own((txn) => fn(new Proxy(txn, { get: (tt, p, r) => (p === "savepoint" ? () => { throw new Error("bug"); } : Reflect.get(tt, p, r) as unknown) }))),
  );
  const c = new Committer(broken);
  c.start();
  const settled = await Promise.allSettled([c.submit(kv("a", 0, 1)), c.submit(kv("b", 0, 1))]);
  for (const s of settled) t.match(s, { status: "rejected", reason: { code: "ERR_COMMIT_FAILED", message: /bug/ } });
  t.equal(inner.journalHead(), 0, "nothing written");
  t.match(await c.submit({ component: "c", id: "x", baseSeq: 0, events: null } as unknown as EntityWrite).catch((e: unknown) => e), { code: "ERR_WRITE_INVALID" }, "a malformed write fails alone");
  await c.stop();
  await inner.close();
});

void t.test("programmer errors are loud", async (t) => {
  const store = new MemoryStore({ durability: "none" });
  t.throws(() => new Committer(store, { durability: "full" }), /durability 'full' differs from the store's 'none'/);
  const a = new Committer(store);
  a.start();
  t.throws(() => new Committer(store).start(), /already has a running committer/);
  await a.stop();
  const b = new Committer(store);
  b.start();
  await b.stop();
  await store.close();
});

/** A store whose write transactions count the journal reads that walk a range (the head's reverse cursor). */
function countingJournalRanges(store: TestStore): { store: TestStore; ranges: () => number } {
  let n = 0;
  const wrap = (txn: CommitTxn): CommitTxn => ({
    ...txn,
    range: (db, options) => {
      if (db === "journal") n++;
      return txn.range(db, options);
    },
  });
  const proxy = withWrite(store, (own) => (fn) => own((txn) => fn(wrap(txn))));
  return { store: proxy, ranges: () => n };
}

for (const [name, make] of Object.entries(stores)) {
  void t.test(`${name}: a batch after our own last one takes the journal head it kept, without a cursor`, async (t) => {
    const { store, ranges } = countingJournalRanges(make(t));
    const committer = new Committer(store);
    committer.start();
    t.teardown(async () => {
      await committer.stop();
      await store.close();
    });
    t.equal((await committer.submit(kv("a", 0, 1))).globalSeq, 1);
    t.equal(ranges(), 1, "the first batch reads the head");
    for (let i = 1; i <= 5; i++) t.equal((await committer.submit(kv("a", i, i + 1))).globalSeq, i + 1);
    t.equal(ranges(), 1, "the next five do not");
    // A batch whose only write is refused appends nothing; the one after it still knows the head.
    await t.rejects(committer.submit(kv("a", 0, "stale")), { code: "ERR_WRITER_CONFLICT" });
    t.equal((await committer.submit(kv("b", 0, 1))).globalSeq, 7);
    // A failed commit forgets the kept head.
    (store as FaultInjection).failNextCommit(new Error("injected"));
    await t.rejects(committer.submit(kv("c", 0, 1)));
    const before = ranges();
    t.equal((await committer.submit(kv("c", 0, 1))).globalSeq, 8);
    t.equal(ranges(), before + 1, "after a failed commit the head is read again");
    checkJournal(t, store);
  });
}

void t.test("a journal entry another writer added after our last batch is never overwritten, even past a gap", async (t) => {
  const dir = t.testdir();
  const s1 = openLmdbStore({ path: dir });
  const c1 = new Committer(s1);
  c1.start();
  await c1.submit(kv("a", 0, 1));
  await c1.submit(kv("a", 1, 2)); // head 2, kept
  // Another writer (a second store on the folder, as another process would be)
  // commits an entry at 4, leaving 3 empty: the kept head's next key is free,
  // only the transaction id shows that someone committed since.
  const s2 = openLmdbStore({ path: dir });
  const foreign: JournalRecord = { component: "other", id: "x", entitySeq: 1, type: "state", payload: "foreign", time: 0, partition: 0, prev: 0 };
  await s2.write((txn) => txn.put("journal", journalKey(4), foreign));
  const twoEvents: EntityWrite = { component: "customer", id: "b", baseSeq: 0, events: [{ type: "e1", payload: 1 }, { type: "e2", payload: 2 }] };
  t.equal((await c1.submit(twoEvents)).globalSeq, 6, "appended after the other writer's entry");
  t.equal(s1.readJournal(4, 1)[0]?.payload, "foreign", "the other writer's entry is intact");
  t.same(s1.readJournal(5, 2).map((e) => e.type), ["e1", "e2"]);
  // A write queued on the same store in the same turn as the committer's
  // batch runs in the same LMDB transaction, before it: same transaction id
  // as the kept head expects, but the next key is taken.
  const before = s1.journalHead();
  const sameTxn = s1.write((txn) => {
    txn.put("journal", journalKey(before + 1), { ...foreign, payload: "same transaction" });
    return txn.writeTxnId();
  });
  const afterIt = c1.submit(kv("b2", 0, 1));
  await sameTxn;
  t.equal((await afterIt).globalSeq, before + 2, "appended after the entry written earlier in its transaction");
  t.equal(s1.readJournal(before + 1, 1)[0]?.payload, "same transaction", "that entry is intact");
  // Both writers queue in the same turn: whichever runs second sees the other's entries.
  const c2 = new Committer(s2);
  c2.start();
  const both = await Promise.all([c2.submit(kv("y", 0, 1)), c1.submit(kv("z", 0, 1)), c2.submit(kv("y2", 0, 1)), c1.submit(kv("z2", 0, 1))]);
  t.same(both.map((r) => r.globalSeq).sort((a, b) => a - b), [9, 10, 11, 12], "distinct positions after the others");
  await c1.stop();
  await c2.stop();
  await s2.close();
  await s1.close();
});

void t.test("a journal entry another process committed after our last batch is never overwritten", async (t) => {
  const dir = t.testdir();
  const store = openLmdbStore({ path: dir });
  const committer = new Committer(store);
  committer.start();
  t.teardown(async () => {
    await committer.stop();
    await store.close();
  });
  await committer.submit(kv("a", 0, 1));
  await committer.submit(kv("a", 1, 2)); // head 2, kept
  // The other process leaves 3 free: only LMDB's transaction id tells.
  const child = spawn(process.execPath, ["--import", "tsx", JOURNAL_WRITER, dir, "4", "from another process"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the writer process did not finish within 30 s"));
    }, 30_000);
    child.on("exit", (c) => {
      clearTimeout(deadline);
      resolve(c);
    });
  });
  t.equal(code, 0);
  t.equal(out, "committed\n");
  const twoEvents: EntityWrite = { component: "customer", id: "b", baseSeq: 0, events: [{ type: "e1", payload: 1 }, { type: "e2", payload: 2 }] };
  t.equal((await committer.submit(twoEvents)).globalSeq, 6, "appended after the other process's entry");
  t.equal(store.readJournal(4, 1)[0]?.payload, "from another process", "that entry is intact");
});

void t.test("two committers on one folder (e.g. two processes) never overwrite each other's journal", async (t) => {
  const dir = t.testdir();
  const s1 = openLmdbStore({ path: dir });
  const s2 = openLmdbStore({ path: dir });
  const c1 = new Committer(s1);
  const c2 = new Committer(s2);
  c1.start();
  c2.start();
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? c1 : c2).submit(kv(`e${i}`, 0, i))),
  );
  t.same(results.map((r) => r.globalSeq).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1), "distinct journal positions");
  // the guard works across them too
  await t.rejects(c2.submit(kv("e0", 0, "again")), { code: "ERR_WRITER_CONFLICT" });
  await c1.stop();
  await c2.stop();
  await s1.close();
  await s2.close();
  const s = openLmdbStore({ path: dir });
  t.equal(s.readJournal(1, 100).length, 40);
  const at = new Map(results.map((r, i) => [i, r.globalSeq]));
  for (let i = 0; i < 40; i++) t.same(s.getState("customer", `e${i}`), { seq: 1, state: i, last: at.get(i) });
  await s.close();
});

/**
 * A store whose write() promises settle only when release() says so, oldest
 * first: the committer's next transaction can run before it hears that the
 * previous one committed — what lmdb-js does when its write thread goes
 * straight on to the next queued transaction.
 */
function gated(
  store: TestStore,
  options: { readonly sameTxnId?: boolean } = {},
): { store: TestStore; writes: () => number; ran: () => Promise<void>; release: () => void; passThrough: () => void } {
  let writes = 0;
  let lastTxnId: number | undefined;
  let hold = true;
  const held: (() => void)[] = [];
  const runWaiters: (() => void)[] = [];
  const proxy = withWrite(store, (own) => <T>(fn: (txn: CommitTxn) => T): Promise<T> => {
    writes++;
    const outcome = own((txn) => {
      // sameTxnId: every transaction reports the first one's id, as
      // when lmdb-js runs two callbacks in one LMDB transaction.
      const id = (lastTxnId ??= txn.writeTxnId());
      try {
        return fn(options.sameTxnId === true ? { ...txn, writeTxnId: () => id } : txn);
      } finally {
        for (const w of runWaiters.splice(0)) w();
      }
    }).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => void outcome.then((o) => (o.ok ? resolve(o.value) : reject(o.error)));
      if (hold) held.push(settle);
      else settle();
    });
  });
  return {
    store: proxy,
    writes: () => writes,
    /** Resolves when the next transaction callback has run. */
    ran: () => new Promise<void>((resolve) => runWaiters.push(resolve)),
    release: () => held.shift()?.(),
    passThrough: () => {
      hold = false;
      for (const settle of held.splice(0)) settle();
    },
  };
}

/** Records what the committer shows its observers: "applied <ids>" and "settled <durable>". */
function recordObserver(committer: Committer): string[] {
  const events: string[] = [];
  committer.observe({
    applied: (batch) => events.push(`applied ${batch.map((b) => `${b.write.id}@${b.result.seq}`).join(",")}`),
    settled: (durable) => events.push(`settled ${durable}`),
  });
  return events;
}

/** A committer on a gated store, recording what its observers see and what it logs. */
function gatedSetup(
  t: Test,
  make: (t: Test) => TestStore,
  options: { readonly sameTxnId?: boolean } = {},
): { g: ReturnType<typeof gated>; raw: TestStore; committer: Committer; logged: Logged[]; events: string[] } {
  const raw = make(t);
  const g = gated(raw, options);
  const logged: Logged[] = [];
  const committer = new Committer(g.store, { logError: (message, fields) => logged.push({ message, fields }) });
  committer.start();
  t.teardown(async () => {
    g.passThrough();
    await committer.stop();
    await g.store.close();
  });
  const events = recordObserver(committer);
  committer.onDurable((batch) => events.push(`durable ${batch.map((b) => b.write.id).join(",")}`));
  return { g, raw, committer, logged, events };
}

for (const [name, make] of Object.entries(stores)) {
  void t.test(`${name}: the next transaction is asked for while a batch commits, and observers still see one batch at a time`, async (t) => {
    const { g, committer, logged, events } = gatedSetup(t, make);
    const ran1 = g.ran();
    const w1 = committer.submit(kv("a", 0, 1));
    await ran1;
    t.equal(g.writes(), 1);
    // w1 is applied and committing (its promise is held): a write now gets
    // the next transaction asked for at once, not after w1 settles here.
    const ran2 = g.ran();
    const w2 = committer.submit(kv("a", 1, 2));
    t.equal(g.writes(), 2, "the second transaction was asked for while the first committed");
    await ran2;
    // The second transaction runs after the first committed, before this
    // thread heard of it: the committer settles the first for its observers
    // before showing them the second.
    t.same(events, ["applied a@1", "settled true", "applied a@2"]);
    g.release();
    g.release();
    t.same(await w1, { seq: 1, globalSeq: 1 });
    t.same(await w2, { seq: 2, globalSeq: 2 });
    t.same(events, ["applied a@1", "settled true", "applied a@2", "durable a", "settled true", "durable a"], "settled once per batch");
    t.same(logged, []);
    checkJournal(t, g.store);
  });

  void t.test(`${name}: when the batch before may have failed, the next transaction takes nothing and its writes wait`, async (t) => {
    const { g, committer, logged, events } = gatedSetup(t, make);
    g.store.failNextCommit(new Error("injected"));
    const ran1 = g.ran();
    const w1 = committer.submit(kv("a", 0, 1));
    await ran1;
    const ran2 = g.ran();
    // Computed on w1's state, as a worker would before w1 is durable; and an independent one.
    const dependent = committer.submit(kv("a", 1, 2));
    const independent = committer.submit(kv("b", 0, 1));
    await ran2;
    // w1's transaction failed and used no id: the second one cannot tell
    // that from a commit it shares a transaction with, so it applies nothing.
    t.same(events, ["applied a@1"], "nothing shown for the second transaction");
    g.passThrough();
    await t.rejects(w1, { code: "ERR_COMMIT_FAILED" });
    await t.rejects(dependent, { code: "ERR_WRITER_CONFLICT", message: /an earlier write of this entity failed/ });
    t.same(await independent, { seq: 1, globalSeq: 1 }, "the waiting writes commit in the batch after");
    t.same(events, ["applied a@1", "settled false", "applied b@1", "settled true", "durable b"], "the empty transaction is not shown to anyone");
    t.same(logged, [], "the dependent conflict is not reported as a routing bug");
    t.equal(g.store.getState("customer", "a"), undefined, "w1 was not stored");
    t.same(committer.stats().commits, 1, "the empty transaction is not counted as a batch");
    checkJournal(t, g.store);
  });
}

void t.test("lmdb: under load, observers see applied and settled strictly alternating, and every write is stored", async (t) => {
  // Counts the write transactions asked for while an earlier one was unsettled.
  let unsettled = 0;
  let overlapped = 0;
  const store = withWrite(openLmdbStore({ path: t.testdir(), durability: "full" }), (own) => (fn) => {
    if (unsettled > 0) overlapped++;
    unsettled++;
    return own(fn).finally(() => unsettled--);
  });
  const committer = new Committer(store);
  committer.start();
  t.teardown(async () => {
    await committer.stop();
    await store.close();
  });
  let open = 0;
  let violations = 0;
  committer.observe({
    applied: () => {
      if (open !== 0) violations++;
      open++;
    },
    settled: (durable) => {
      if (open !== 1 || !durable) violations++;
      open--;
    },
  });
  // One write per turn of the event loop, for 1,000 turns, so that writes
  // keep arriving while batches commit; 40 entities written in turn, each
  // write computed on the one before (as a worker does, before durability).
  const writes: Promise<{ seq: number }>[] = [];
  for (let i = 0; i < 1000; i++) {
    writes.push(committer.submit(kv(`w${i % 40}`, Math.floor(i / 40), i)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seqs = (await Promise.all(writes)).map((r) => r.seq);
  t.equal(violations, 0, "one batch between applied and settled at a time");
  t.equal(open, 0);
  t.same(seqs, Array.from({ length: 1000 }, (_, i) => Math.floor(i / 40) + 1));
  for (let w = 0; w < 40; w++) t.equal(store.getState("customer", `w${w}`)?.state, 960 + w);
  checkJournal(t, store);
  t.ok(overlapped > 0, `transactions asked for while an earlier one committed: ${overlapped} of ${committer.stats().commits} batches`);
});

for (const [name, make] of Object.entries(stores)) {
  void t.test(`${name}: a batch that may share the transaction of the one before takes nothing until that one settles`, async (t) => {
    // The second callback sees the first batch's journal entry and the same
    // transaction id: the first may not be committed yet, so it must not be
    // settled early, and the second batch must not apply anything.
    const { g, committer, logged, events } = gatedSetup(t, make, { sameTxnId: true });
    const ran1 = g.ran();
    const w1 = committer.submit(kv("a", 0, 1));
    await ran1;
    const ran2 = g.ran();
    const w2 = committer.submit(kv("b", 0, 1));
    await ran2;
    t.same(events, ["applied a@1"], "the first batch is not settled early, the second applies nothing");
    g.passThrough();
    t.same(await w1, { seq: 1, globalSeq: 1 });
    t.same(await w2, { seq: 1, globalSeq: 2 }, "the waiting write commits in the batch after");
    t.same(events, ["applied a@1", "settled true", "durable a", "applied b@1", "settled true", "durable b"], "the empty transaction is not shown to anyone");
    t.same(logged, []);
    checkJournal(t, g.store);
  });
}

for (const [name, make] of Object.entries(stores)) {
  void t.test(`${name}: an entry another writer put where a failed batch's last one was does not pass for that batch`, async (t) => {
    const { g, raw, committer, logged, events } = gatedSetup(t, make);
    raw.failNextCommit(new Error("injected"));
    const ran1 = g.ran();
    const w1 = committer.submit(kv("a", 0, 1));
    await ran1;
    // w1 failed (its promise is held); another writer then commits an entry
    // at journal key 1, where w1's was, and uses the next transaction id.
    const foreign: JournalRecord = { component: "other", id: "x", entitySeq: 1, type: "state", payload: "foreign", time: 0, partition: 0, prev: 0 };
    await raw.write((txn) => txn.put("journal", journalKey(1), foreign));
    const ran2 = g.ran();
    const w2 = committer.submit(kv("b", 0, 1));
    await ran2;
    t.same(events, ["applied a@1"], "w1 is not taken for committed: the second transaction applies nothing");
    g.passThrough();
    await t.rejects(w1, { code: "ERR_COMMIT_FAILED" });
    t.same(await w2, { seq: 1, globalSeq: 2 }, "b goes after the other writer's entry");
    t.same(events, ["applied a@1", "settled false", "applied b@1", "settled true", "durable b"]);
    t.equal(raw.readJournal(1, 1)[0]?.payload, "foreign");
    t.equal(raw.getState("customer", "a"), undefined);
    t.same(logged, []);
  });
}
