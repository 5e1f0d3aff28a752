// The Store contract, run against every implementation
// (lmdb-store.test.ts, memory-store.test.ts).
import type { Test } from "tap";
import { encodeKey, encodeKeyPrefix, prefixEnd } from "../../src/storage/key-codec.js";
import { entityLogKey, journalKey, stateKey } from "../../src/storage/layout.js";
import type { Entry, FaultInjection, JournalEntry, JournalRecord, Store } from "../../src/storage/store.js";

export type MakeStore = (t: Test) => Store & FaultInjection;

const k = (...parts: (string | number | null | boolean)[]): Buffer => encodeKey(parts);
const keysOf = (entries: Iterable<Entry>): string[] => Array.from(entries, (e) => e.key.toString("hex"));

function rec(component: string, id: string, entitySeq: number, type = "state", payload: unknown = null): JournalRecord {
  return { component, id, entitySeq, type, payload, time: 1, partition: 0 };
}

export function storeContract(t: Test, makeStore: MakeStore): void {
  void t.test("an empty store", async (t) => {
    const store = makeStore(t);
    t.equal(store.journalHead(), 0);
    t.equal(store.getState("c", "x"), undefined);
    t.same(store.readJournal(1, 10), []);
    t.same(store.replayEntity("c", "x"), []);
    t.equal(store.read((txn) => txn.get("rows", k("nothing"))), undefined);
  });

  void t.test("a write is visible to reads once it resolves, and returns fn's result", async (t) => {
    const store = makeStore(t);
    const r = await store.write((txn) => {
      txn.put("state", stateKey("c", "x"), { seq: 1, state: { name: "Ann" } });
      txn.put("rows", k("t", "x"), { a: 1 });
      return 42;
    });
    t.equal(r, 42);
    t.same(store.getState("c", "x"), { seq: 1, state: { name: "Ann" } });
    t.same(store.read((txn) => txn.get("rows", k("t", "x"))), { a: 1 });
  });

  void t.test("a write transaction sees its own writes (get and range)", async (t) => {
    const store = makeStore(t);
    await store.write((txn) => {
      txn.put("index", k("i", 1), null);
      txn.put("index", k("i", 2), null);
      t.equal(txn.get("index", k("i", 2)), null);
      t.same(keysOf(txn.range("index", { start: k("i"), end: prefixEnd(encodeKeyPrefix(["i"])) })), [k("i", 1), k("i", 2)].map((b) => b.toString("hex")));
      txn.remove("index", k("i", 1));
      t.equal(txn.get("index", k("i", 1)), undefined);
    });
    t.same(store.read((txn) => keysOf(txn.range("index", {}))), [k("i", 2).toString("hex")]);
  });

  void t.test("a throwing fn writes nothing and rejects with its error", async (t) => {
    const store = makeStore(t);
    const boom = new Error("boom");
    await t.rejects(
      store.write((txn) => {
        txn.put("rows", k("a"), 1);
        throw boom;
      }),
      boom,
    );
    t.equal(store.read((txn) => txn.get("rows", k("a"))), undefined);
    // and the store keeps working
    await store.write((txn) => txn.put("rows", k("b"), 2));
    t.equal(store.read((txn) => txn.get("rows", k("b"))), 2);
  });

  void t.test("range: key order, start inclusive, end exclusive, reverse, limit", async (t) => {
    const store = makeStore(t);
    const keys = [k(null), k(false), k(true), k(-1), k(0), k(2.5), k(""), k("a"), k("a", 1), k("b")];
    await store.write((txn) => {
      for (const key of [...keys].reverse()) txn.put("rows", key, key.toString("hex"));
    });
    const hex = keys.map((b) => b.toString("hex"));
    store.read((txn) => {
      const all = Array.from(txn.range("rows", {}));
      t.same(all.map((e) => e.key.toString("hex")), hex, "sorted by bytes");
      t.same(all.map((e) => e.value), hex, "values follow keys");
      t.ok(all.every((e) => Buffer.isBuffer(e.key)), "keys are Buffers");
      t.same(keysOf(txn.range("rows", { start: k(0), end: k("a") })), hex.slice(4, 7));
      t.same(keysOf(txn.range("rows", { start: k(0), end: k("a"), reverse: true })), hex.slice(4, 7).reverse());
      t.same(keysOf(txn.range("rows", { reverse: true, limit: 2 })), hex.slice(-2).reverse());
      t.same(keysOf(txn.range("rows", { start: k("a"), end: prefixEnd(encodeKeyPrefix(["a"])) })), hex.slice(7, 9), "prefix scan");
      t.same(keysOf(txn.range("rows", { start: k("zzz") })), []);
      t.same(keysOf(txn.range("rows", { end: k(null) })), []);
      t.same(keysOf(txn.range("rows", { start: k(-0.5), limit: 1 })), [hex[4]], "start between keys");
    });
  });

  void t.test("range is lazy: stopping early reads no further", async (t) => {
    const store = makeStore(t);
    await store.write((txn) => {
      for (let i = 0; i < 5000; i++) txn.put("rows", k("r", i), { i });
    });
    const firsts = store.read((txn) => {
      const out: unknown[] = [];
      for (const e of txn.range("rows", {})) {
        out.push(e.value);
        if (out.length === 3) break;
      }
      return out;
    });
    t.same(firsts, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    t.notOk(Array.isArray(store.read((txn) => txn.range("rows", {}))), "not materialized as an array");
  });

  void t.test("savepoint: rollback undoes exactly the changes since the savepoint", async (t) => {
    const store = makeStore(t);
    await store.write((txn) => {
      txn.put("rows", k("a"), "a0");
      txn.put("rows", k("c"), "c0");
      txn.put("rows", k("d"), "d0");
    });
    await store.write((txn) => {
      txn.put("rows", k("before"), 1);
      txn.savepoint();
      txn.put("rows", k("a"), "a1");
      txn.put("rows", k("b"), "b1");
      txn.put("rows", k("b"), "b2");
      txn.remove("rows", k("c"));
      txn.remove("rows", k("never"));
      txn.putKnown("rows", k("d"), "d1", "d0");
      txn.putKnown("rows", k("e"), "e1", undefined);
      txn.rollbackToSavepoint();
      txn.savepoint();
      txn.put("rows", k("kept"), 1);
      txn.releaseSavepoint();
    });
    store.read((txn) => {
      t.equal(txn.get("rows", k("a")), "a0");
      t.equal(txn.get("rows", k("b")), undefined);
      t.equal(txn.get("rows", k("c")), "c0");
      t.equal(txn.get("rows", k("d")), "d0", "putKnown restored from the given previous value");
      t.equal(txn.get("rows", k("e")), undefined, "putKnown of a new key removed");
      t.equal(txn.get("rows", k("before")), 1);
      t.equal(txn.get("rows", k("kept")), 1);
    });
  });

  void t.test("journal: head, range reads, entity replay", async (t) => {
    const store = makeStore(t);
    await store.write((txn) => {
      // x writes seq 1 (one record at g1), y seq 1 (g2), x seq 2 (two events at g3, g4)
      txn.put("journal", journalKey(1), rec("c", "x", 1));
      txn.put("entityLog", entityLogKey("c", "x", 1), 1);
      txn.put("journal", journalKey(2), rec("c", "y", 1));
      txn.put("entityLog", entityLogKey("c", "y", 1), 2);
      txn.put("journal", journalKey(3), rec("c", "x", 2, "A", { n: 1 }));
      txn.put("journal", journalKey(4), rec("c", "x", 2, "B", { n: 2 }));
      txn.put("entityLog", entityLogKey("c", "x", 2), 3);
      txn.put("journal", journalKey(5), rec("c", "x2", 1));
      txn.put("entityLog", entityLogKey("c", "x2", 1), 5);
    });
    t.equal(store.journalHead(), 5);
    t.same(store.readJournal(1, 100).map((e) => e.globalSeq), [1, 2, 3, 4, 5]);
    t.same(store.readJournal(3, 2).map((e) => [e.globalSeq, e.type]), [[3, "A"], [4, "B"]]);
    t.same(store.readJournal(0, 1)[0], { ...rec("c", "x", 1), globalSeq: 1 });
    t.same(store.readJournal(6, 10), []);
    t.same(store.replayEntity("c", "x").map((e) => [e.globalSeq, e.entitySeq, e.type]), [[1, 1, "state"], [3, 2, "A"], [4, 2, "B"]]);
    t.same(store.replayEntity("c", "x", 2).map((e) => e.globalSeq), [3, 4]);
    t.same(store.replayEntity("c", "x", 1, 2).map((e) => e.globalSeq), [1, 3]);
    t.same(store.replayEntity("c", "x2").map((e) => e.globalSeq), [5], "an id that extends another id is not mixed in");
  });

  void t.test("tail: delivers the backlog, then new entries in order; stop ends it", async (t) => {
    const store = makeStore(t);
    const append = (from: number, n: number): Promise<void> =>
      store.write((txn) => {
        for (let g = from; g < from + n; g++) txn.put("journal", journalKey(g), rec("c", "x", g));
      });
    await append(1, 3);
    const seen: number[] = [];
    let reached: (() => void) | undefined;
    let want = 0;
    const handle = store.tail(2, (entries: readonly JournalEntry[]) => {
      for (const e of entries) seen.push(e.globalSeq);
      if (seen.length >= want) reached?.();
    });
    const waitFor = (n: number): Promise<void> =>
      new Promise((resolve) => {
        want = n;
        reached = resolve;
        if (seen.length >= n) resolve();
      });
    await waitFor(2);
    t.same(seen, [2, 3], "backlog from the requested sequence");
    await append(4, 2);
    await waitFor(4);
    t.same(seen, [2, 3, 4, 5], "new entries after their commit");
    await store.write((txn) => txn.put("rows", k("not-journal"), 1));
    handle.stop();
    await handle.done;
    await append(6, 1);
    t.same(seen, [2, 3, 4, 5], "nothing after stop");
  });

  void t.test("tail: a listener's promise paces only that tail", async (t) => {
    const store = makeStore(t);
    for (let i = 0; i < 3; i++) await store.write((txn) => txn.put("journal", journalKey(i + 1), rec("c", "x", i + 1)));
    let release: (() => void) | undefined;
    const calls: number[][] = [];
    const handle = store.tail(1, (entries) => {
      calls.push(entries.map((e) => e.globalSeq));
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    while (calls.length === 0) await new Promise((r) => setImmediate(r));
    // the listener has not finished: writes still commit
    await store.write((txn) => txn.put("journal", journalKey(4), rec("c", "x", 4)));
    t.equal(calls.length, 1, "no second delivery while the first is pending");
    release?.();
    while (calls.length < 2) await new Promise((r) => setImmediate(r));
    t.same(calls, [[1, 2, 3], [4]]);
    handle.stop();
    release?.();
    await handle.done;
  });

  void t.test("an injected disk-full commit failure writes nothing; the next write succeeds", async (t) => {
    const store = makeStore(t);
    await store.write((txn) => txn.put("rows", k("a"), 1));
    store.failNextCommit(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
    await t.rejects(store.write((txn) => txn.put("rows", k("b"), 2)), { code: "ERR_DISK_FULL" });
    t.equal(store.read((txn) => txn.get("rows", k("b"))), undefined);
    t.equal(store.read((txn) => txn.get("rows", k("a"))), 1, "reads keep working");
    await store.write((txn) => txn.put("rows", k("b"), 3));
    t.equal(store.read((txn) => txn.get("rows", k("b"))), 3);
  });

  void t.test("close: waits for pending writes, then refuses with ERR_STORE_CLOSED", async (t) => {
    const store = makeStore(t);
    const w = store.write((txn) => txn.put("rows", k("a"), 1));
    const closing = store.close();
    await w;
    await closing;
    await store.close(); // idempotent
    t.throws(() => store.read(() => 1), { code: "ERR_STORE_CLOSED" });
    t.throws(() => store.getState("c", "x"), { code: "ERR_STORE_CLOSED" });
    await t.rejects(store.write(() => 1), { code: "ERR_STORE_CLOSED" });
  });

  void t.test("stored values are copies: mutating a read result changes nothing", async (t) => {
    const store = makeStore(t);
    const value = { list: [1, 2] };
    await store.write((txn) => txn.put("rows", k("a"), value));
    value.list.push(3);
    const read = store.read((txn) => txn.get("rows", k("a"))) as { list: number[] };
    t.same(read, { list: [1, 2] });
    read.list.push(4);
    t.same(store.read((txn) => txn.get("rows", k("a"))), { list: [1, 2] });
  });
}
