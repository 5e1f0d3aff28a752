import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Committer } from "../../src/storage/committer.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";

const CLI = fileURLToPath(new URL("./fixtures/storage-cli.ts", import.meta.url));

function calyx(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

void t.test("backup, restore, export and import from the command line", async (t) => {
  const dir = t.testdir({ busy: { "file.txt": "x" } });
  const data = join(dir, "data");
  const store = openLmdbStore({ path: data });
  const c = new Committer(store);
  c.start();
  for (let i = 0; i < 20; i++) await c.submit({ component: "customer", id: `c${i}`, baseSeq: 0, state: { value: { i } }, events: [] });
  await c.stop();
  await store.close();

  const b = calyx("backup", join(dir, "b.mdb"), "--data", data);
  t.equal(b.status, 0, b.stderr);
  t.match(b.stdout, /backup: wrote .*b\.mdb .*journal head 20/);

  const refused = calyx("restore", join(dir, "b.mdb"), "--data", join(dir, "busy"));
  t.equal(refused.status, 1);
  t.match(refused.stderr, /calyx: error: restore: .*not empty.*--force/);
  t.equal(calyx("restore", join(dir, "b.mdb"), "--data", join(dir, "busy"), "--force").status, 0);

  const e = calyx("export", "--data", join(dir, "busy"), "--out", join(dir, "dump.ndjson"));
  t.equal(e.status, 0, e.stderr);
  const dump = readFileSync(join(dir, "dump.ndjson"), "utf8").trim().split("\n");
  t.equal(dump.length, 1 + 20 + 20, "header, 20 states, 20 journal records");

  const toStdout = calyx("export", "--data", data);
  t.equal(toStdout.stdout.trim().split("\n").length, 41, "export to standard output");

  const i = calyx("import", join(dir, "dump.ndjson"), "--data", join(dir, "imported"));
  t.equal(i.status, 0, i.stderr);
  const again = openLmdbStore({ path: join(dir, "imported") });
  t.same(again.getState("customer", "c7"), { seq: 1, state: { i: 7 } });
  t.equal(again.journalHead(), 20);
  await again.close();

  const twice = calyx("import", join(dir, "dump.ndjson"), "--data", join(dir, "imported"));
  t.equal(twice.status, 1);
  t.match(twice.stderr, /already holds data/);
  t.match(calyx("export", "--data", join(dir, "nope")).stderr, /no data folder/);
});
