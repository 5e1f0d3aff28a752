// Evolving views: a new view, a changed query (a new index) or a changed
// updater on an existing data folder rebuilds the table from stored state —
// and the result equals what the live path would have written.
import t from "tap";
import { writeFileSync } from "node:fs";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";
import { encodeKey } from "../../src/storage/key-codec.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";

const ENTITY = `import { keyValueEntity } from "calyx";
export const person = keyValueEntity({
  name: "person",
  initialState: () => null,
  commands: {
    set: { handler: (_s, c, ctx) => ctx.update(c).reply("ok") },
    drop: { handler: (_s, _c, ctx) => ctx.delete().reply("ok") },
  },
});
`;
const viewFile = (query: string, updater = "") => `import { view } from "calyx";
import { person } from "./person.js";
export const people = view({ name: "people", from: person, ${updater}
  queries: { q: { sql: "${query}" } } });
`;

const N = 1_234;

async function open(dir: string) {
  const rt = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir: dir, dataDir: `${dir}/data`, workers: 2, durability: "none", log: () => {} });
  return rt;
}

t.test("a changed query rebuilds its index; a changed updater rebuilds rows; deletions stay deleted", async (t) => {
  const dir = t.testdir({ src: { "person.ts": ENTITY, "people.ts": viewFile("SELECT * FROM people WHERE city = :city") } });
  let rt = await open(dir);
  await rt.viewsSettled();
  await Promise.all(Array.from({ length: N }, (_, i) =>
    rt.command("person", "set", `p${i}`, { city: `c${i % 7}`, age: i % 90 }, undefined)));
  await rt.command("person", "drop", "p0", undefined, undefined);
  await rt.stop();

  // A new query on another column needs a new index: built at start, from state.
  writeFileSync(`${dir}/src/people.ts`, viewFile("SELECT * FROM people WHERE age = CAST(:age AS INTEGER)"));
  rt = await open(dir);
  t.teardown(() => rt.stop());
  await rt.viewsSettled();
  const expected = Array.from({ length: N }, (_, i) => i).filter((i) => i !== 0 && i % 90 === 42).length;
  t.equal(rt.query("people", "q", { age: "42" }).rows.length, expected, "every stored entity is in the new index");
  t.equal(rt.query("people", "q", { age: "0" }).rows.length, Array.from({ length: N }, (_, i) => i).filter((i) => i !== 0 && i % 90 === 0).length, "the deleted entity has no row");
  t.same(rt.viewStatus(), [{ view: "people", table: "people", from: "person", status: "ready", done: 0, total: 0 }]);
  await rt.stop();

  // A changed updater: rows are recomputed.
  writeFileSync(`${dir}/src/people.ts`, viewFile("SELECT * FROM people WHERE age = CAST(:age AS INTEGER)", "updater: (s) => ({ ...s, age: s.age + 1 }),"));
  rt = await open(dir);
  await rt.viewsSettled();
  const rows = rt.query("people", "q", { age: "43" }).rows;
  t.equal(rows.length, expected);
  t.ok(rows.every((r) => r["age"] === 43));
  // Writes after the rebuild go through the same updater.
  await rt.command("person", "set", "new", { city: "x", age: 42 }, undefined);
  t.equal(rt.query("people", "q", { age: "43" }).rows.length, expected + 1);
});

t.test("a build interrupted mid-way resumes from its cursor", async (t) => {
  const dir = t.testdir({ src: { "person.ts": ENTITY, "people.ts": viewFile("SELECT * FROM people WHERE city = :city") } });
  let rt = await open(dir);
  await Promise.all(Array.from({ length: 300 }, (_, i) => rt.command("person", "set", `p${String(i).padStart(3, "0")}`, { city: "a", age: i }, undefined)));
  await rt.viewsSettled();
  await rt.stop();
  // What a crash in the middle of a build leaves: meta says "building", cursor at p149, and only the rows before it.
  const store = openLmdbStore({ path: `${dir}/data`, durability: "none" });
  const meta = store.read((txn) => txn.get("meta", encodeKey(["view", "people"]))) as Record<string, unknown>;
  await store.write((txn) => {
    txn.put("meta", encodeKey(["view", "people"]), { ...meta, status: "building", dropped: true, cursor: "p149", done: 150 });
    for (let i = 150; i < 300; i++) txn.remove("rows", encodeKey(["people", `p${i}`]));
  });
  await store.close();
  rt = await open(dir);
  t.teardown(() => rt.stop());
  await rt.viewsSettled();
  t.equal(rt.query("people", "q", { city: "a" }).rows.length, 300, "the rest of the table was built");
});

const LEDGER = `import { eventSourcedEntity } from "calyx";
export const ledger = eventSourcedEntity({
  name: "ledger",
  initialState: () => ({ balance: 0 }),
  applyEvent: (s, e) => (e.type === "credited" ? { balance: s.balance + e.amount } : s),
  commands: {
    credit: { handler: (_s, c, ctx) => ctx.persist({ type: "credited", amount: c.amount }).reply("ok") },
    close: { handler: (_s, _c, ctx) => ctx.persist({ type: "closed" }).reply("ok") },
  },
});
`;
const ledgerView = (factor: number) => `import { view } from "calyx";
import { ledger } from "./ledger.js";
export const totals = view({ name: "totals", from: ledger,
  updater: {
    credited: (row, e) => ({ band: "b", total: (row ? row.total : 0) + e.amount * ${factor}, credits: (row ? row.credits : 0) + 1 }),
    closed: (_row, _e, ctx) => ctx.deleteRow(),
  },
  queries: { q: { sql: "SELECT * FROM totals WHERE band = :band" } } });
`;

t.test("event-updated views fold events live, and rebuild from the journal", async (t) => {
  const dir = t.testdir({ src: { "ledger.ts": LEDGER, "totals.ts": ledgerView(1) } });
  let rt = await open(dir);
  for (let i = 0; i < 50; i++) {
    for (let k = 1; k <= 3; k++) await rt.command("ledger", "credit", `l${i}`, { amount: k }, undefined);
  }
  await rt.command("ledger", "close", "l0", undefined, undefined);
  const live = rt.query("totals", "q", { band: "b" }).rows;
  t.equal(live.length, 49, "the closed ledger's row was deleted by its updater");
  t.ok(live.every((r) => r["total"] === 6 && r["credits"] === 3));
  await rt.stop();

  writeFileSync(`${dir}/src/totals.ts`, ledgerView(10));
  rt = await open(dir);
  t.teardown(() => rt.stop());
  await rt.viewsSettled();
  const rebuilt = rt.query("totals", "q", { band: "b" }).rows;
  t.equal(rebuilt.length, 49, "rebuilt from each entity's journal, deletions included");
  t.ok(rebuilt.every((r) => r["total"] === 60 && r["credits"] === 3));
  // Live folding continues from the rebuilt row.
  await rt.command("ledger", "credit", "l1", { amount: 1 }, undefined);
  t.equal(rt.query("totals", "q", { band: "b" }).rows.find((r) => r["credits"] === 4)?.["total"], 70);
});

t.test("an event updater on a key-value entity is refused at load", async (t) => {
  const dir = t.testdir({ src: { "person.ts": ENTITY, "bad.ts": `import { view } from "calyx";
import { person } from "./person.js";
export const bad = view({ name: "bad", from: person, updater: { set: (row) => row }, queries: {} });
` } });
  const error = await open(dir).then(() => undefined, (e: unknown) => e);
  t.match(error, { problems: [{ code: "ERR_VIEW_UPDATER" }] });
});
