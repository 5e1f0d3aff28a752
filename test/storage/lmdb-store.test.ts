import t from "tap";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { FORMAT_VERSION, META_FORMAT_VERSION_KEY, journalKey, stateKey } from "../../src/storage/layout.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import { storeContract } from "./store.contract.js";

void t.test("contract", async (t) => {
  storeContract(t, (t) => {
    const store = openLmdbStore({ path: t.testdir(), durability: "none" });
    t.teardown(() => store.close());
    return store;
  });
});

void t.test("data survives close and reopen", async (t) => {
  const dir = t.testdir();
  const a = openLmdbStore({ path: dir, durability: "full" });
  await a.write((txn) => {
    txn.put("state", stateKey("c", "x"), { seq: 1, state: "s" });
    txn.put("journal", journalKey(1), { component: "c", id: "x", entitySeq: 1, type: "state", payload: "s", time: 1, partition: 0 });
  });
  await a.close();
  const b = openLmdbStore({ path: dir });
  t.teardown(() => b.close());
  t.same(b.getState("c", "x"), { seq: 1, state: "s" });
  t.equal(b.journalHead(), 1);
});

void t.test("a folder written by another format version is refused, untouched", async (t) => {
  const dir = t.testdir();
  await openLmdbStore({ path: dir }).close();
  const raw = open({ path: dir, maxDbs: 16, noSubdir: false });
  const meta = raw.openDB({ name: "meta", keyEncoding: "binary" });
  await meta.put(META_FORMAT_VERSION_KEY, FORMAT_VERSION + 1);
  await raw.close();
  t.throws(() => openLmdbStore({ path: dir }), {
    code: "ERR_FORMAT_VERSION",
    message: new RegExp(`written by storage format ${FORMAT_VERSION + 1}; this Calyx reads format ${FORMAT_VERSION}.*export`),
  });
  const again = open({ path: dir, maxDbs: 16, noSubdir: false });
  t.equal(again.openDB({ name: "meta", keyEncoding: "binary" }).get(META_FORMAT_VERSION_KEY), FORMAT_VERSION + 1, "version not overwritten");
  await again.close();
});

void t.test("an LMDB folder with data but no format version is refused", async (t) => {
  const dir = t.testdir();
  const raw = open({ path: dir, maxDbs: 16, noSubdir: false });
  await raw.openDB({ name: "state", keyEncoding: "binary" }).put(Buffer.from("k"), 1);
  await raw.close();
  t.throws(() => openLmdbStore({ path: dir }), { code: "ERR_FORMAT_VERSION", message: /not written by Calyx/ });
  const raw2 = open({ path: dir, maxDbs: 16, noSubdir: false });
  t.equal(raw2.openDB({ name: "journal", create: false } as unknown as { name: string }), undefined, "no database was created in the foreign folder");
  await raw2.close();
});

void t.test("a file where the folder should be is ERR_OPEN_FAILED", async (t) => {
  const dir = t.testdir({ "not-a-dir": "hello" });
  t.throws(() => openLmdbStore({ path: join(dir, "not-a-dir") }), { code: "ERR_OPEN_FAILED" });
});

void t.test("a path with a dot is still a folder", async (t) => {
  const dir = join(t.testdir(), "my.data");
  const s = openLmdbStore({ path: dir });
  await s.write((txn) => txn.put("rows", Buffer.from([1]), 1));
  await s.close();
  t.ok(statSync(dir).isDirectory());
  t.ok(existsSync(join(dir, "data.mdb")));
});

void t.test("read-only open sees committed data and refuses writes", async (t) => {
  const dir = t.testdir();
  const rw = openLmdbStore({ path: dir });
  await rw.write((txn) => txn.put("state", stateKey("c", "x"), { seq: 1, state: 1 }));
  await rw.close();
  const ro = openLmdbStore({ path: dir, readOnly: true });
  t.teardown(() => ro.close());
  t.same(ro.getState("c", "x"), { seq: 1, state: 1 });
  await t.rejects(ro.write(() => 1), { code: "ERR_STORE_CLOSED" });
});

void t.test("durability batched: writes commit and survive close", async (t) => {
  const dir = t.testdir();
  const s = openLmdbStore({ path: dir, durability: "batched", batchedFlushMs: 5 });
  for (let i = 0; i < 5; i++) await s.write((txn) => txn.put("rows", Buffer.from([i + 1]), i));
  await s.close();
  const again = openLmdbStore({ path: dir });
  t.teardown(() => again.close());
  t.equal(again.read((txn) => Array.from(txn.range("rows", {})).length), 5);
});

void t.test("a damaged data.mdb is refused instead of crashing the process", async (t) => {
  const dir = t.testdir({ "data.mdb": "not lmdb at all ".repeat(1000) });
  t.throws(() => openLmdbStore({ path: dir }), { code: "ERR_OPEN_FAILED", message: /not an LMDB data file/ });
});
