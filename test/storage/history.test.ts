// An entity's history (src/storage/history.ts): the chain the committer builds
// through journal records (`prev`) and the state (`last`), the entityLog of
// format 1 it continues, and replayEntity against an oracle — the journal
// itself, filtered.
import t from "tap";
import type { Test } from "tap";
import { open } from "lmdb";
import { Committer } from "../../src/storage/committer.js";
import { FORMAT_VERSION, META_FORMAT_VERSION_KEY, decodeJournalKey, entityLogKey, journalKey, stateKey } from "../../src/storage/layout.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import type { EntityWrite, JournalEntry, JournalRecord, Store, StoredState } from "../../src/storage/store.js";
import { Random } from "../query/oracle/random.js";

const stores: Record<string, (t: Test) => Store> = {
  lmdb: (t) => openLmdbStore({ path: t.testdir(), durability: "none" }),
  memory: () => new MemoryStore({ durability: "none" }),
};

function setup(t: Test, make: (t: Test) => Store): { store: Store; committer: Committer } {
  const store = make(t);
  const committer = new Committer(store, { logError: () => undefined });
  committer.start();
  t.teardown(async () => {
    await committer.stop();
    await store.close();
  });
  return { store, committer };
}

const entityLogEntries = (store: Store): number => store.read((txn) => [...txn.range("entityLog", {})].length);

/** A write as storage format 1 made it: records without `prev`, a state without `last`, the write filed in entityLog. */
async function legacyWrite(store: Store, component: string, id: string, events: readonly { type: string; payload: unknown }[], state: unknown): Promise<void> {
  await store.write((txn) => {
    let head = 0;
    for (const { key } of txn.range("journal", { reverse: true, limit: 1 })) head = decodeJournalKey(key);
    const stored = txn.get("state", stateKey(component, id)) as StoredState | undefined;
    const seq = (stored?.seq ?? 0) + 1;
    txn.put("entityLog", entityLogKey(component, id, seq), head + 1);
    for (const e of events) {
      const r: JournalRecord = { component, id, entitySeq: seq, type: e.type, payload: e.payload, time: 1, partition: 0 };
      txn.put("journal", journalKey(++head), r);
    }
    txn.put("state", stateKey(component, id), { seq, state });
  });
}

/** What replayEntity must return: the journal filtered to the entity, from a write on, at most `limit` entries. */
function oracle(store: Store, component: string, id: string, from: number, limit: number): JournalEntry[] {
  return store
    .readJournal(1, store.journalHead() + 1)
    .filter((e) => e.component === component && e.id === id && e.entitySeq >= from)
    .slice(0, limit);
}

const strip = (entries: readonly JournalEntry[]): unknown[] => entries.map(({ prev: _prev, ...e }) => e);

for (const [kind, make] of Object.entries(stores)) {
  void t.test(`${kind}: the committer chains an entity's writes instead of indexing them`, async (t) => {
    const { store, committer } = setup(t, make);
    const es = (baseSeq: number, ...types: string[]): EntityWrite => ({ component: "acct", id: "a", baseSeq, events: types.map((type) => ({ type, payload: type })) });
    await committer.submit(es(0, "Opened", "Deposited")); // g1, g2
    await committer.submit({ component: "customer", id: "c", baseSeq: 0, state: { value: 1 }, events: [] }); // g3
    await committer.submit(es(1, "Withdrawn")); // g4
    await committer.submit(es(2, "Deposited", "Deposited", "Closed")); // g5..g7
    t.equal(entityLogEntries(store), 0, "no entityLog entry is written");
    const journal = store.readJournal(1, 10);
    t.same(journal.map((e) => [e.globalSeq, e.id, e.entitySeq, e.prev]), [
      [1, "a", 1, 0], [2, "a", 1, 0], [3, "c", 1, 0], [4, "a", 2, 1], [5, "a", 3, 4], [6, "a", 3, 4], [7, "a", 3, 4],
    ], "every record of a write points at the first record of the entity's previous write (0: none)");
    t.same(store.getState("acct", "a"), { seq: 3, state: undefined, last: 5 }, "the state points at its latest write");
    t.same(store.replayEntity("acct", "a").map((e) => [e.globalSeq, e.entitySeq, e.type]), [
      [1, 1, "Opened"], [2, 1, "Deposited"], [4, 2, "Withdrawn"], [5, 3, "Deposited"], [6, 3, "Deposited"], [7, 3, "Closed"],
    ]);
    t.same(store.replayEntity("acct", "a", 2).map((e) => e.globalSeq), [4, 5, 6, 7], "from a write on");
    t.same(store.replayEntity("acct", "a", 3, 2).map((e) => e.globalSeq), [5, 6], "limit counts records");
    t.same(store.replayEntity("acct", "a", 4), [], "from after the latest write");
    t.same(store.replayEntity("acct", "a", 1, 0), []);
    t.same(store.replayEntity("acct", "nobody"), []);

    // a delete keeps the chain: the tombstone points at the delete, the next write at it
    await committer.submit({ component: "customer", id: "c", baseSeq: 1, state: { deleted: true }, events: [] }); // g8
    await committer.submit({ component: "customer", id: "c", baseSeq: 2, state: { value: 3 }, events: [] }); // g9
    t.same(store.replayEntity("customer", "c").map((e) => [e.globalSeq, e.type, e.prev]), [[3, "state", 0], [8, "delete", 3], [9, "state", 8]]);
    t.same(store.getState("customer", "c"), { seq: 3, state: 3, last: 9 });
  });

  void t.test(`${kind}: writes stored by format 1 stay in the history, before and after new writes`, async (t) => {
    const { store, committer } = setup(t, make);
    await legacyWrite(store, "acct", "a", [{ type: "Opened", payload: 1 }, { type: "Deposited", payload: 2 }], "s1"); // g1, g2: write 1
    await legacyWrite(store, "acct", "b", [{ type: "Opened", payload: 3 }], "b1"); // g3
    await legacyWrite(store, "acct", "a", [{ type: "Withdrawn", payload: 4 }], "s2"); // g4: write 2
    const before = store.replayEntity("acct", "a");
    t.same(before.map((e) => e.globalSeq), [1, 2, 4], "format 1 alone: the entityLog answers");

    await committer.submit({ component: "acct", id: "a", baseSeq: 2, events: [{ type: "Deposited", payload: 5 }, { type: "Fee", payload: 6 }], state: { value: "s3" } }); // g5, g6: write 3
    await committer.submit({ component: "acct", id: "a", baseSeq: 3, events: [{ type: "Closed", payload: 7 }] }); // g7: write 4
    t.equal(store.readJournal(5, 1)[0]?.prev, 4, "the first new write points at the last format-1 write, found in the entityLog");
    t.same(store.getState("acct", "a"), { seq: 4, state: "s3", last: 7 });
    t.same(store.replayEntity("acct", "a").map((e) => [e.globalSeq, e.entitySeq, e.type]), [
      [1, 1, "Opened"], [2, 1, "Deposited"], [4, 2, "Withdrawn"], [5, 3, "Deposited"], [6, 3, "Fee"], [7, 4, "Closed"],
    ]);
    for (let from = 0; from <= 5; from++) {
      for (const limit of [0, 1, 2, 3, 4, 5, 6, 100]) {
        t.same(strip(store.replayEntity("acct", "a", from, limit)), strip(oracle(store, "acct", "a", from, limit)), `from ${from}, limit ${limit}`);
      }
    }
    t.same(store.replayEntity("acct", "b").map((e) => e.globalSeq), [3], "an entity only format 1 wrote");
    await committer.submit({ component: "acct", id: "b", baseSeq: 1, events: [{ type: "Closed", payload: 8 }] }); // g8
    t.same(store.replayEntity("acct", "b").map((e) => [e.globalSeq, e.prev]), [[3, undefined], [8, 3]]);
  });

  void t.test(`${kind}: replayEntity equals the filtered journal over random histories (differential)`, async (t) => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { store, committer } = setup(t, make);
      const rnd = new Random(seed);
      const ids = ["a", "b", "ab", "c", "c2", "d"];
      const seqs = new Map<string, number>();
      for (let round = 0; round < 60; round++) {
        const id = rnd.pick(ids);
        const seq = seqs.get(id) ?? 0;
        const events = Array.from({ length: rnd.int(0, 3) }, (_, i) => ({ type: `E${i}`, payload: round }));
        // the first rounds write as format 1 did (a folder written before the upgrade; some entities get none)
        if (round < 20) {
          if (id === "d") continue;
          await legacyWrite(store, "acct", id, events.length > 0 ? events : [{ type: "state", payload: round }], round);
          seqs.set(id, seq + 1);
          continue;
        }
        const write: EntityWrite = rnd.chance(0.2)
          ? { component: "acct", id, baseSeq: seq, state: { deleted: true }, events: [] }
          : { component: "acct", id, baseSeq: seq, events, ...(events.length === 0 || rnd.chance(0.5) ? { state: { value: round } } : {}) };
        // several writes in one batch, some of the same entity
        if (rnd.chance(0.3)) {
          const other = rnd.pick(ids.filter((x) => x !== id));
          const otherSeq = seqs.get(other) ?? 0;
          await Promise.all([committer.submit(write), committer.submit({ component: "acct", id: other, baseSeq: otherSeq, state: { value: -round }, events: [] })]);
          seqs.set(other, otherSeq + 1);
        } else {
          await committer.submit(write);
        }
        seqs.set(id, seq + 1);
      }
      let checked = 0;
      for (const id of [...ids, "zz"]) {
        const n = seqs.get(id) ?? 0;
        for (let from = 0; from <= n + 1; from++) {
          for (const limit of [1, 3, Number.MAX_SAFE_INTEGER]) {
            const got = strip(store.replayEntity("acct", id, from, limit));
            const want = strip(oracle(store, "acct", id, from, limit));
            if (JSON.stringify(got) !== JSON.stringify(want)) t.same(got, want, `seed ${seed}: ${id} from ${from} limit ${limit}`);
            checked++;
          }
        }
      }
      t.ok(checked > 100, `seed ${seed}: ${checked} replays equal the journal`);
    }
  });

  void t.test(`${kind}: a broken chain is reported, not papered over`, async (t) => {
    const { store, committer } = setup(t, make);
    await committer.submit({ component: "customer", id: "x", baseSeq: 0, state: { value: 1 }, events: [] }); // g1
    await committer.submit({ component: "customer", id: "y", baseSeq: 0, state: { value: 2 }, events: [] }); // g2
    await store.write((txn) => txn.put("state", stateKey("customer", "x"), { seq: 1, state: 1, last: 2 }));
    t.throws(() => store.replayEntity("customer", "x"), { code: "ERR_CORRUPT", message: /customer\/x.*write 1 should start at journal record 2, which belongs to customer\/y write 1.*restore/ });
    // a chain that ends before the first write
    await committer.submit({ component: "customer", id: "y", baseSeq: 1, state: { value: 3 }, events: [] }); // g3, prev 2
    const { globalSeq: _g, ...third } = store.readJournal(3, 1)[0] as JournalEntry;
    await store.write((txn) => txn.put("journal", journalKey(3), { ...third, prev: 0 }));
    t.throws(() => store.replayEntity("customer", "y"), { code: "ERR_CORRUPT", message: /customer\/y.*write 2 is marked as its first/ });
    t.same(store.replayEntity("customer", "y", 2).map((e) => e.globalSeq), [3], "a replay that does not reach the break reads");

    // a format-1 state whose entityLog entry is missing: that write fails alone
    await store.write((txn) => txn.put("state", stateKey("customer", "old"), { seq: 3, state: "s" }));
    const [bad, good] = await Promise.allSettled([
      committer.submit({ component: "customer", id: "old", baseSeq: 3, state: { value: "t" }, events: [] }),
      committer.submit({ component: "customer", id: "z", baseSeq: 0, state: { value: "z" }, events: [] }),
    ]);
    t.match(bad, { status: "rejected", reason: { code: "ERR_CORRUPT", message: /customer\/old.*write 3/ } });
    t.equal(good?.status, "fulfilled", "the other write of the batch commits");
    t.same(store.getState("customer", "old"), { seq: 3, state: "s" }, "nothing of the failed write was stored");
    t.same(store.replayEntity("customer", "z").map((e) => e.globalSeq), [4], "its journal numbers were reused");
  });
}

void t.test("a format-1 folder is read as it is and marked format 2 when opened read-write", async (t) => {
  t.equal(FORMAT_VERSION, 2);
  const dir = t.testdir();
  const first = openLmdbStore({ path: dir });
  await legacyWrite(first, "acct", "a", [{ type: "Opened", payload: 1 }], "s1");
  await first.close();
  const raw = open({ path: dir, maxDbs: 16, noSubdir: false });
  await raw.openDB({ name: "meta", keyEncoding: "binary" }).put(META_FORMAT_VERSION_KEY, 1);
  await raw.close();
  const version = (): unknown => {
    const env = open({ path: dir, maxDbs: 16, noSubdir: false, readOnly: true });
    try {
      return env.openDB({ name: "meta", keyEncoding: "binary" }).get(META_FORMAT_VERSION_KEY);
    } finally {
      void env.close();
    }
  };

  const ro = openLmdbStore({ path: dir, readOnly: true });
  t.same(ro.replayEntity("acct", "a").map((e) => e.type), ["Opened"], "read-only: its history reads");
  await ro.close();
  t.equal(version(), 1, "read-only: the folder is left at format 1");

  const rw = openLmdbStore({ path: dir });
  const committer = new Committer(rw);
  committer.start();
  await committer.submit({ component: "acct", id: "a", baseSeq: 1, events: [{ type: "Closed", payload: 2 }] });
  t.same(rw.replayEntity("acct", "a").map((e) => [e.globalSeq, e.type]), [[1, "Opened"], [2, "Closed"]]);
  await committer.stop();
  await rw.close();
  t.equal(version(), 2, "read-write: marked format 2, so a Calyx that reads only format 1 refuses it");
});
