// What a user would build instead of Calyx: the seed's customer service on
// Fastify 5 + better-sqlite3 12, durable like Calyx (WAL, synchronous=FULL:
// every committed write is fsync'd before the reply), with an index on name.
//
//   node --import tsx bench/baselines/fastify-sqlite.ts --data /tmp/db [--port 0] [--preload 100000]
//
// --preload N inserts customers c0 … c<N-1> (bench/lib/dataset.ts) in one
// transaction before listening, unless they are already there: the fast path
// the benchmarks use instead of N POSTs (which would take N / ~2,400 s).
import Database from "better-sqlite3";
import Fastify from "fastify";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { preloadRecord } from "../lib/dataset.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    data: { type: "string" },
    preload: { type: "string", default: "0" },
  },
});
if (values.data === undefined) {
  process.stderr.write("fastify-sqlite: --data DIR is required\n");
  process.exit(2);
}
/** Rows a page query returns. */
const PAGE_ROWS = 20;

mkdirSync(values.data, { recursive: true });
const db = new Database(join(values.data, "customers.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec(`CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS customers_name ON customers(name);`);

const upsert = db.prepare("INSERT INTO customers (id, name, email) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email");
const byId = db.prepare<[string], { name: string; email: string }>("SELECT name, email FROM customers WHERE id = ?");
const byName = db.prepare<[string], { id: string; name: string; email: string }>("SELECT id, name, email FROM customers WHERE name = ?");
const page = db.prepare<[string, number], { id: string; name: string; email: string }>(
  "SELECT id, name, email FROM customers WHERE name >= ? ORDER BY name, id LIMIT ?");

const preload = Number(values.preload);
if (preload > 0) {
  const started = performance.now();
  const have = (db.prepare("SELECT count(*) AS n FROM customers").get() as { n: number }).n;
  if (have < preload) {
    const insert = db.prepare("INSERT OR IGNORE INTO customers (id, name, email) VALUES (?, ?, ?)");
    db.transaction(() => {
      for (let i = 0; i < preload; i++) {
        const r = preloadRecord(i, { customers: preload });
        insert.run(r.id, r.name, r.email);
      }
    })();
  }
  process.stdout.write(`fastify-sqlite: preloaded ${preload} customers in ${Math.round(performance.now() - started)} ms\n`);
}

interface CreateCustomer { name: string; email: string }
const isCreate = (c: unknown): c is CreateCustomer => {
  const o = c as Partial<CreateCustomer> | null;
  return typeof o === "object" && o !== null && typeof o.name === "string" && typeof o.email === "string";
};

const app = Fastify({ logger: false });
app.post<{ Params: { id: string } }>("/customers/:id", (req, reply) => {
  if (!isCreate(req.body)) return reply.code(422).send({ error: { message: 'expected {"name": string, "email": string}' } });
  upsert.run(req.params.id, req.body.name, req.body.email);
  return reply.type("application/json").send('"done"');
});
app.get<{ Params: { id: string } }>("/customers/:id", (req, reply) => {
  const row = byId.get(req.params.id);
  if (row === undefined) return reply.code(404).send({ error: { message: `no customer with id ${req.params.id}` } });
  return reply.send(row);
});
app.get<{ Params: { name: string } }>("/customers/by-name/:name", (req, reply) => reply.send(byName.all(req.params.name)));
app.get<{ Params: { from: string } }>("/customers/page/:from", (req, reply) => reply.send(page.all(req.params.from, PAGE_ROWS)));

// (No top-level await: the benchmark bundles this file as CommonJS.)
app.listen({ port: Number(values.port), host: values.host }).then(
  (address) => process.stdout.write(`fastify-sqlite: listening on ${address}\n`),
  (error: unknown) => {
    process.stderr.write(`fastify-sqlite: ${String(error)}\n`);
    process.exit(1);
  },
);
const stop = (): void => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
