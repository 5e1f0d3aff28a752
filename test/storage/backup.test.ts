import t from "tap";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { backup, exportNdjson, fromJson, importNdjson, restore, toJson } from "../../src/storage/backup.js";
import { Committer } from "../../src/storage/committer.js";
import { encodeKey } from "../../src/storage/key-codec.js";
import { TRANSPILE_CACHE_FILE, VIEW_SQL_CACHE_FILE } from "../../src/storage/layout.js";
import { openLmdbStore, type LmdbStore } from "../../src/storage/lmdb-store.js";

/** A store with a bit of everything: kv states, events, a delete, odd values, rows, offsets, a raw key. */
async function populate(dir: string): Promise<string> {
  const store = openLmdbStore({ path: dir });
  const c = new Committer(store);
  c.start();
  await c.submit({ component: "customer", id: "c1", baseSeq: 0, state: { value: { name: "Ann", tags: ["a"], at: new Date(5), bytes: Buffer.from([0, 1, 255]) } }, events: [] });
  await c.submit({ component: "customer", id: "c1", baseSeq: 1, state: { value: { name: "Ann B", $weird: 1, nothing: undefined, neg: -0, inf: -Infinity } }, events: [] });
  await c.submit({ component: "customer", id: "c\u0000x", baseSeq: 0, state: { value: "nul id" }, events: [] });
  await c.submit({ component: "customer", id: "gone", baseSeq: 0, state: { value: 1 }, events: [] });
  await c.submit({ component: "customer", id: "gone", baseSeq: 1, state: { deleted: true }, events: [] });
  await c.submit({ component: "account", id: "a1", baseSeq: 0, events: [{ type: "Opened", payload: { by: "😀" } }, { type: "Deposited", payload: 10 }], state: { value: { balance: 10 } } });
  await c.submit({ component: "account", id: "a1", baseSeq: 1, events: [{ type: "Deposited", payload: 5 }] });
  await store.write((txn) => {
    txn.put("rows", encodeKey(["customers", "c1"]), { name: "Ann B" });
    txn.put("index", encodeKey(["customers.byName", "Ann B", "c1"]), null);
    txn.put("offsets", encodeKey(["consumer-1"]), 7);
    txn.put("timers", Buffer.from([0xee, 0x01]), { call: "x" }); // not a codec key
  });
  await c.stop();
  await store.close();
  return dir;
}

async function exportToString(store: LmdbStore, file: string): Promise<string> {
  const out = createWriteStream(file);
  await exportNdjson(store, out);
  out.end();
  await finished(out);
  // drop the header's timestamp: it differs between runs
  return readFileSync(file, "utf8").replace(/"exportedAt":"[^"]*"/, "");
}

void t.test("tagged JSON round-trips the values msgpack can hold", async (t) => {
  const v = { a: [1, -0, NaN, Infinity, null, undefined, "s"], d: new Date(3), b: Buffer.from("hi"), m: new Map([[1, "x"]]), s: new Set([2]), big: 10n, $dollar: { $bytes: "not a tag" } };
  const back = fromJson(JSON.parse(JSON.stringify(toJson(v)))) as typeof v;
  t.same(back, v);
  t.ok(Object.is(back.a[1], -0));
  t.ok(Buffer.isBuffer(back.b));
});

void t.test("export -> import -> export is identical, and the store behaves the same", async (t) => {
  const dir = t.testdir();
  const src = await populate(join(dir, "src"));
  const a = openLmdbStore({ path: src, readOnly: true });
  const first = await exportToString(a, join(dir, "a.ndjson"));
  const head = a.journalHead();
  await a.close();

  const target = openLmdbStore({ path: join(dir, "imported") });
  const { lines } = await importNdjson(target, join(dir, "a.ndjson"));
  t.equal(lines, first.trim().split("\n").length);
  const second = await exportToString(target, join(dir, "b.ndjson"));
  t.equal(second, first, "byte-identical export after import");
  t.equal(target.journalHead(), head);
  t.same(target.replayEntity("account", "a1").map((e) => [e.globalSeq, e.entitySeq, e.type]), [[6, 1, "Opened"], [7, 1, "Deposited"], [8, 2, "Deposited"]], "entityLog rebuilt");
  t.equal(target.getState("customer", "gone")?.deleted, true);
  t.same(target.getState("customer", "c\u0000x"), { seq: 1, state: "nul id" });
  // a committer continues where the imported journal ends
  const c = new Committer(target);
  c.start();
  t.same(await c.submit({ component: "customer", id: "c1", baseSeq: 2, state: { value: 3 }, events: [] }), { seq: 3, globalSeq: head + 1 });
  await c.stop();
  await target.close();
});

void t.test("import refuses a non-empty store and malformed files, naming the line", async (t) => {
  const dir = t.testdir({
    "no-header.ndjson": '{"kind":"state","component":"c","id":"x","seq":1,"state":1}\n',
    "bad-line.ndjson": '{"kind":"header","format":"calyx-export","version":1}\n{"kind":"state","component":"c","id":"x","seq":1,"state":1}\n{oops\n',
    "bad-order.ndjson": '{"kind":"header","format":"calyx-export","version":1}\n' +
      '{"kind":"journal","globalSeq":2,"component":"c","id":"x","entitySeq":1,"type":"state","payload":1,"time":1,"partition":0}\n' +
      '{"kind":"journal","globalSeq":2,"component":"c","id":"x","entitySeq":2,"type":"state","payload":1,"time":1,"partition":0}\n',
    "future.ndjson": '{"kind":"header","format":"calyx-export","version":2}\n',
    "ok.ndjson": '{"kind":"header","format":"calyx-export","version":1}\n{"kind":"state","component":"c","id":"x","seq":1,"state":1}\n',
  });
  const open = (name: string): LmdbStore => {
    const s = openLmdbStore({ path: join(dir, `db-${name}`) });
    t.teardown(() => s.close());
    return s;
  };
  await t.rejects(importNdjson(open("1"), join(dir, "no-header.ndjson")), { code: "ERR_IMPORT_FORMAT", message: /no-header.ndjson:1: the first line is not a calyx-export header/ });
  await t.rejects(importNdjson(open("2"), join(dir, "bad-line.ndjson")), { code: "ERR_IMPORT_FORMAT", message: /bad-line.ndjson:3: not JSON/ });
  await t.rejects(importNdjson(open("3"), join(dir, "bad-order.ndjson")), { code: "ERR_IMPORT_FORMAT", message: /:3: journal sequence 2 does not follow 2/ });
  await t.rejects(importNdjson(open("4"), join(dir, "future.ndjson")), { code: "ERR_IMPORT_FORMAT", message: /version 2 is not supported/ });
  const full = open("5");
  await importNdjson(full, join(dir, "ok.ndjson"));
  await t.rejects(importNdjson(full, join(dir, "ok.ndjson")), { code: "ERR_RESTORE_TARGET" });
});

void t.test("backup -> restore round trip; restore refuses a non-empty folder unless forced", async (t) => {
  const dir = t.testdir({ occupied: { "something.txt": "keep me" }, "only-cache": { [TRANSPILE_CACHE_FILE]: "{}", [VIEW_SQL_CACHE_FILE]: "{}" } });
  const src = await populate(join(dir, "src"));
  const store = openLmdbStore({ path: src });
  const expected = await exportToString(store, join(dir, "before.ndjson"));
  const progress: number[] = [];
  const { bytes } = await backup(store, join(dir, "backup.mdb"), (done) => progress.push(done));
  await store.close();
  t.ok(bytes > 0 && progress.length > 0);

  const restored = join(dir, "restored");
  await restore(join(dir, "backup.mdb"), restored);
  const r = openLmdbStore({ path: restored });
  t.equal(await exportToString(r, join(dir, "after.ndjson")), expected, "the restored store exports the same data");
  await r.close();

  await t.rejects(restore(join(dir, "backup.mdb"), join(dir, "occupied")), { code: "ERR_RESTORE_TARGET", message: /not empty.*--force/ });
  await t.rejects(restore(join(dir, "backup.mdb"), restored), { code: "ERR_RESTORE_TARGET" });
  await restore(join(dir, "backup.mdb"), restored, { force: true });
  await t.rejects(restore(join(dir, "missing.mdb"), join(dir, "x")), { code: "ERR_RESTORE_TARGET" });
  writeFileSync(join(dir, "garbage.mdb"), "not lmdb at all".repeat(1000));
  await t.rejects(restore(join(dir, "garbage.mdb"), join(dir, "from-garbage")), { code: /ERR_OPEN_FAILED|ERR_FORMAT_VERSION/ });
  t.same(readFileSync(join(dir, "occupied", "something.txt"), "utf8"), "keep me");
  // The transpile cache a server leaves holds no data: such a folder counts as empty.
  await restore(join(dir, "backup.mdb"), join(dir, "only-cache"));
  const fromCacheOnly = openLmdbStore({ path: join(dir, "only-cache") });
  t.equal(await exportToString(fromCacheOnly, join(dir, "after2.ndjson")), expected, "restored beside the transpile cache");
  await fromCacheOnly.close();
});

void t.test("backup is consistent while writes go on", async (t) => {
  const dir = t.testdir();
  const store = openLmdbStore({ path: join(dir, "live"), durability: "none" });
  const c = new Committer(store);
  c.start();
  let stop = false;
  const seqs = new Map<string, number>();
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const id = `e${i % 50}`;
      const base = seqs.get(id) ?? 0;
      await c.submit({ component: "c", id, baseSeq: base, state: { value: i }, events: [] });
      seqs.set(id, base + 1);
    }
  })();
  while (store.journalHead() < 500) await new Promise((r) => setImmediate(r));
  await backup(store, join(dir, "b.mdb"));
  stop = true;
  await writer;
  await c.stop();
  await store.close();

  await restore(join(dir, "b.mdb"), join(dir, "copy"));
  const copy = openLmdbStore({ path: join(dir, "copy") });
  t.teardown(() => copy.close());
  const head = copy.journalHead();
  t.ok(head >= 500);
  const journal = copy.readJournal(1, head + 1);
  t.same(journal.map((e) => e.globalSeq), Array.from({ length: head }, (_, i) => i + 1), "no gaps");
  // every state equals the last journal record of its entity
  const last = new Map<string, { entitySeq: number; payload: unknown; globalSeq: number }>();
  for (const e of journal) last.set(e.id, { entitySeq: e.entitySeq, payload: e.payload, globalSeq: e.globalSeq });
  for (const [id, l] of last) t.same(copy.getState("c", id), { seq: l.entitySeq, state: l.payload, last: l.globalSeq }, `state of ${id} matches the journal`);
});
