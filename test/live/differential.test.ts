// THE LIVE ORACLE: simulated clients apply the changes of many subscriptions
// (random WHERE, ORDER BY, LIMIT, OFFSET; several parameter values per query;
// shared pipelines; subscribers joining, leaving and resuming midway) while
// random commits land (bursts: several writes, the same row more than once).
// After every commit each client's rows must equal the one-shot query's and
// SQLite's answer to the same SQL. Each commit is prepared, then settled, as
// the committer does: between the two (while the disk would sync) clients
// join, leave and resume, and their rows must still be those of the last
// durable commit; one commit in ten fails and is rolled back.
// Longer runs: LIVE_SEEDS=2000 npx tap test/live/differential.test.ts
import Database from "better-sqlite3";
import { isDeepStrictEqual } from "node:util";
import t from "tap";
import type { CompiledQuery, Row } from "../../src/query/types.js";
import { LiveQueries } from "../../src/live/live-queries.js";
import { Random } from "../query/oracle/random.js";
import { compilableQueries, renderSqlite, sqliteParams, type GenQuery } from "../query/oracle/gen-query.js";
import { randomRow, randomSchema, randomValue, sqliteName, sqliteRow, TAGS, type Schema } from "../query/oracle/schema.js";
import { FakeSource } from "./helpers/fake-source.js";
import { Recorder } from "./helpers/recorder.js";

const SEEDS = Number(process.env["LIVE_SEEDS"] ?? 150);
const TABLE = "t";

interface Sub {
  readonly name: string;
  readonly gen: GenQuery;
  readonly params: Record<string, unknown>;
  readonly rec: Recorder;
  open: boolean;
  /** Set while "disconnected": the last stream and seq seen. */
  away: { stream: string; seq: number } | null;
}

function variant(r: Random, gen: GenQuery): Record<string, unknown> {
  const keep = new Set<string>();
  for (const v of [gen.limit, gen.offset]) if (v !== null && "param" in v) keep.add(v.param);
  const vary = (v: unknown): unknown => {
    if (typeof v === "string") return v.includes("%") ? v : r.chance(0.3) ? r.pick(TAGS) : randomValue(r, "text");
    if (typeof v === "number") return randomValue(r, Number.isInteger(v) ? "int" : "real");
    if (typeof v === "boolean") return r.chance(0.5);
    if (Array.isArray(v)) return v.map(vary);
    return v;
  };
  return Object.fromEntries(Object.entries(gen.params).map(([k, v]) => [k, keep.has(k) ? v : vary(v)]));
}

function countOf(v: GenQuery["limit"], params: Record<string, unknown>): number | null {
  if (v === null) return null;
  return ("lit" in v ? v.lit : params[v.param]) as number;
}

interface Stats { checks: number; changes: number; resumed: number; resets: number; subs: number; rolledBack: number; inFlight: number }

function runSeed(seed: number, stats: Stats): void {
  const r = new Random(seed * 7919 + 13);
  const schema: Schema = randomSchema(r);
  const found = compilableQueries(r, schema, TABLE, 6, 30);
  const gens = new Map<string, GenQuery>([...found].map(([name, q]) => [name, q.gen]));
  const queries: Record<string, string> = Object.fromEntries([...found].map(([name, q]) => [name, q.sql]));
  const source = new FakeSource([{ name: "v", table: TABLE, queries }]);
  const live = new LiveQueries(source, { resumeGraceMs: 60_000, resumeChangesMax: r.pick([2, 8, 512]) });
  live.start();

  const db = new Database(":memory:");
  db.pragma("case_sensitive_like = ON");
  const cols = ["pk PRIMARY KEY", ...schema.cols.map((c) => sqliteName(c.path)), ...(schema.hasTags ? ["tags"] : [])];
  db.exec(`CREATE TABLE ${TABLE} (${cols.join(", ")})`);
  const names = cols.map((c) => c.split(" ")[0] as string);
  const upsert = db.prepare(`INSERT OR REPLACE INTO ${TABLE} (${names.join(", ")}) VALUES (${names.map((n) => `@${n}`).join(", ")})`);
  const del = db.prepare(`DELETE FROM ${TABLE} WHERE pk = ?`);
  const statements = new Map<string, Database.Statement>();

  const keys = r.int(5, 25);
  /** One commit: `during` runs between prepare and settle; one in ten is rolled back. */
  const commit = (during: () => void): void => {
    const writes: { view: string; pk: string; row: Row | null }[] = [];
    const sqlite: (() => void)[] = [];
    for (let i = r.int(1, 5); i > 0; i--) {
      const pk = `k${r.int(0, keys - 1)}`;
      if (r.chance(0.25)) {
        writes.push({ view: "v", pk, row: null });
        sqlite.push(() => del.run(pk));
      } else {
        const row = { ...randomRow(r, schema), id: pk };
        writes.push({ view: "v", pk, row });
        sqlite.push(() => upsert.run(sqliteRow(schema, pk, row)));
      }
    }
    const inFlight = source.begin(writes);
    during();
    const durable = !r.chance(0.1);
    inFlight.settle(durable);
    if (durable) for (const op of sqlite) op();
    else stats.rolledBack++;
  };

  const subs: Sub[] = [];
  const subscribe = (name: string, gen: GenQuery, params: Record<string, unknown>): void => {
    const rec = new Recorder();
    let handle;
    try {
      handle = live.subscribe({ view: "v", query: name, params }, rec);
    } catch (e) {
      // A subscription fails exactly when the one-shot query does, with the same code.
      let oneShot: unknown = null;
      try {
        source.query("v", name, params);
      } catch (e2) {
        oneShot = e2;
      }
      const code = (x: unknown): unknown => (x as { code?: unknown } | null)?.code;
      if (oneShot === null || code(oneShot) !== code(e)) throw new Error(`seed ${seed}: subscribe failed (${String(e)}) but the query gives ${String(oneShot)}`);
      return;
    }
    rec.begin(handle);
    subs.push({ name, gen, params, rec, open: true, away: null });
    stats.subs++;
  };
  const subscribeSome = (): void => {
    for (const [name, gen] of gens) {
      subscribe(name, gen, gen.params);
      if (r.chance(0.5)) subscribe(name, gen, gen.params); // shares the pipeline
      for (let i = r.int(1, 3); i > 0; i--) subscribe(name, gen, variant(r, gen));
    }
  };

  /** While a commit is in flight, subscribers that started then wait for their snapshot (skipped); after it, none may wait. */
  let inFlight = false;
  const check = (when: string): void => {
    for (const s of subs) {
      if (!s.open || s.away !== null) continue;
      if (s.rec.pending) {
        if (inFlight) continue;
        throw new Error(`seed ${seed} ${when}: a subscriber still waits for its snapshot`);
      }
      if (inFlight) stats.inFlight++;
      if (s.rec.ended !== undefined) throw new Error(`seed ${seed}: subscription ended: ${String(s.rec.ended)}`);
      const q = source.view("v")?.queries[s.name] as CompiledQuery;
      const expected = source.query("v", s.name, s.params);
      const actual = s.rec.result.entries.map((e) => e.row);
      const unordered = q.plan.mode === "unordered";
      const byId = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => String(a["id"]) < String(b["id"]) ? -1 : String(a["id"]) > String(b["id"]) ? 1 : 0);
      const norm = (rows: readonly Row[]): unknown => JSON.parse(JSON.stringify(unordered ? byId(rows) : rows));
      if (!isDeepStrictEqual(norm(actual), norm(expected))) {
        throw new Error(`seed ${seed} ${when}: live result differs from the one-shot query\n${JSON.stringify({ sql: q.sql, params: s.params, expected: expected.map((x) => x["id"]), actual: actual.map((x) => x["id"]), plan: q.explain() }, null, 1)}`);
      }
      if (!s.rec.keys().every((k, i) => actual[i]?.["id"] === k)) throw new Error(`seed ${seed}: keys are not the rows' pks`);
      const sql = renderSqlite(s.gen, TABLE, unordered ? [] : q.plan.order);
      let stmt = statements.get(sql);
      if (stmt === undefined) statements.set(sql, (stmt = db.prepare(sql)));
      let pks = (stmt.all(sqliteParams(s.params, sql)) as { pk: string }[]).map((x) => x.pk);
      const offset = countOf(s.gen.offset, s.params) ?? 0;
      const limit = countOf(s.gen.limit, s.params);
      pks = pks.slice(offset, limit === null ? undefined : offset + limit);
      const got = s.rec.keys();
      if (!isDeepStrictEqual(unordered ? [...got].sort() : got, unordered ? [...pks].sort() : pks)) {
        throw new Error(`seed ${seed} ${when}: live result differs from SQLite\n${JSON.stringify({ sql: q.sql, params: s.params, sqlite: pks, live: got })}`);
      }
      stats.checks++;
    }
  };

  const act = (): void => {
    const connected = subs.filter((x) => x.open && x.away === null);
    const away = subs.filter((x) => x.away !== null);
    if (connected.length > 0 && r.chance(0.4)) {
      // Disconnect: the client keeps its rows and its position.
      const s = r.pick(connected);
      s.away = { stream: s.rec.stream, seq: s.rec.seq };
      s.rec.handle?.close();
    }
    if (away.length > 0 && r.chance(0.4)) {
      const s = r.pick(away);
      const handle = live.subscribe({ view: "v", query: s.name, params: s.params, resume: s.away ?? undefined }, s.rec);
      if (handle.start.kind === "resumed") stats.resumed++;
      else stats.resets++;
      s.rec.begin(handle);
      s.away = null;
      check("after resuming");
    }
    if (connected.length > 0 && r.chance(0.2)) {
      // A flap: the same client drops and resumes at once (the same subscriber object).
      const s = r.pick(connected);
      // Not one that just went away above, nor one still waiting for its snapshot (nothing to resume from).
      if (s.away !== null || s.rec.pending) return;
      const at = { stream: s.rec.stream, seq: s.rec.seq };
      s.rec.handle?.close();
      const handle = live.subscribe({ view: "v", query: s.name, params: s.params, resume: at }, s.rec);
      if (handle.start.kind === "resumed") stats.resumed++;
      else stats.resets++;
      s.rec.begin(handle);
      check("after a flap");
    }
    const roll = r.next();
    if (roll < 0.1 && connected.length > 0) {
      const s = r.pick(connected);
      s.rec.handle?.close();
      s.open = false;
    } else if (roll < 0.2) {
      subscribeSome();
      check("after more subscriptions");
    }
  };

  for (let i = r.int(0, 6); i > 0; i--) commit(() => undefined);
  subscribeSome();
  check("after subscribing");
  const batches = r.int(6, 14);
  for (let b = 0; b < batches; b++) {
    // Half the time the clients act while the commit is in flight.
    const meanwhile = r.chance(0.5);
    commit(() => {
      inFlight = true;
      check(`while commit ${b} is in flight`);
      if (meanwhile) act();
      inFlight = false;
    });
    check(`after commit ${b}`);
    if (!meanwhile) act();
  }
  for (const s of subs) stats.changes += s.rec.changes.length;
  live.stop();
  db.close();
}

t.test(`${SEEDS} random seeds: every live result equals the one-shot query and SQLite after every commit`, async (t) => {
  const stats: Stats = { checks: 0, changes: 0, resumed: 0, resets: 0, subs: 0, rolledBack: 0, inFlight: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    try {
      runSeed(seed, stats);
    } catch (e) {
      throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
    }
  }
  t.comment(JSON.stringify(stats));
  t.ok(stats.checks > 10_000, "thousands of live results compared");
  t.ok(stats.changes > 1_000, "thousands of change messages applied");
  t.ok(stats.resumed > 0 && stats.resets > 0, "subscribers resumed, and some were reset (too far behind)");
  t.ok(stats.rolledBack > 50, "commits were rolled back");
  t.ok(stats.inFlight > 1_000, "results were compared while commits were in flight");
});
