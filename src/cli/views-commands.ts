// `calyx views list | explain | rebuild | drop`: inspect and manage the
// tables of a project's views in a data folder. The runtime, the store and the
// transpiler are imported when a command runs, not when the CLI starts (this
// module is loaded by every command, `calyx run` included).
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import type { CommandModule } from "yargs";
import { ProjectError } from "../host/errors.js";
import type { inspectProject } from "../host/inspect-project.js";
import { createLogger } from "../host/logger.js";
import type { ViewMeta } from "../host/view-builder.js";
import { decodeKey, encodeKey, encodeKeyPrefix, prefixEnd } from "../storage/key-codec.js";
import type { DbName } from "../storage/store.js";
import { lockDataDir } from "./data-lock.js";
import { checkProjectDir } from "./serve.js";
import { CliError } from "./serve-errors.js";
import { guarded } from "./fail.js";

interface Args { dir: string; data: string | undefined; view?: string; query?: string; table?: string }

function dataDirOf(args: Args, projectDir: string | undefined): string {
  const dir = resolve(args.data ?? join(projectDir ?? ".", ".calyx"));
  if (!existsSync(dir)) throw new CliError(`no data folder at ${dir}; pass --data <dir>`);
  return dir;
}

/** Loads the project (and the transpiler, only now: `calyx run` does not need it at start-up). */
async function inspect(projectDir: string): Promise<ReturnType<typeof inspectProject>> {
  const { inspectProject } = await import("../host/inspect-project.js");
  try {
    return inspectProject(projectDir);
  } catch (error) {
    if (error instanceof ProjectError) throw new CliError(error.problems[0]?.message ?? error.message, error.problems.map((p) => p.frame ?? "").join("\n") || undefined);
    throw error;
  }
}

/** Stored view tables: meta/["view", table] records. */
async function storedViews(dataDir: string): Promise<Map<string, ViewMeta>> {
  const { openLmdbStore } = await import("../storage/lmdb-store.js");
  const store = openLmdbStore({ path: dataDir, readOnly: true });
  try {
    const prefix = encodeKeyPrefix(["view"]);
    return store.read((txn) => {
      const out = new Map<string, ViewMeta>();
      for (const { key, value } of txn.range("meta", { start: prefix, end: prefixEnd(prefix) })) out.set(String(decodeKey(key)[1]), value as ViewMeta);
      return out;
    });
  } finally {
    void store.close();
  }
}

const dirOption = { type: "string", default: ".", describe: "project folder" } as const;
const dataOption = { type: "string", describe: "data folder (default: <dir>/.calyx)" } as const;

const list: CommandModule<object, Args> = {
  command: "list [dir]",
  describe: "the project's views and the tables stored for them",
  builder: (y) => y.positional("dir", dirOption).option("data", dataOption) as never,
  handler: guarded(async (args) => {
    const projectDir = checkProjectDir(args.dir);
    const { manifest, views } = await inspect(projectDir);
    const stored = existsSync(resolve(args.data ?? join(projectDir, ".calyx"))) ? await storedViews(dataDirOf(args, projectDir)) : new Map<string, ViewMeta>();
    const { viewSignature } = await import("../host/view-builder.js");
    const lines = ["view\ttable\tfrom\tqueries\tstored table"];
    for (const m of manifest.views) {
      const compiled = views.byName.get(m.name);
      const meta = stored.get(m.table);
      const state = !meta ? "not built (built at next start)"
        : meta.status === "building" ? `building (${meta.done} rows so far; resumes at next start)`
        : compiled && meta.signature === viewSignature(compiled, m) ? "ready" : "out of date (rebuilt at next start)";
      lines.push(`${m.name}\t${m.table}\t${m.from}\t${m.queries.map((q) => q.name).join(",")}\t${state}`);
      stored.delete(m.table);
    }
    for (const table of stored.keys()) lines.push(`-\t${table}\t-\t-\tno longer defined (remove it with: calyx views drop ${table})`);
    process.stdout.write(lines.join("\n") + "\n");
  }),
};

const explain: CommandModule<object, Args> = {
  command: "explain <view> <query> [dir]",
  describe: "print the plan of a view's query (indexes, ranges, residual filter)",
  builder: (y) => y.positional("view", { type: "string", demandOption: true }).positional("query", { type: "string", demandOption: true }).positional("dir", dirOption) as never,
  handler: guarded(async (args) => {
    const { views } = await inspect(checkProjectDir(args.dir));
    const view = views.byName.get(args.view ?? "");
    if (!view) throw new CliError(`no view '${args.view}' (views: ${[...views.byName.keys()].join(", ") || "none"})`);
    const query = view.queries[args.query ?? ""];
    if (!query) throw new CliError(`view '${args.view}' has no query '${args.query}' (queries: ${Object.keys(view.queries).join(", ")})`);
    process.stdout.write(`${args.view}.${args.query}\n${query.explain()}\nindexes of the view:\n${view.indexes.map((i) => `  ${i.id}`).join("\n")}\n`);
  }),
};

const rebuild: CommandModule<object, Args> = {
  command: "rebuild <view> [dir]",
  describe: "rebuild a view's table from stored state now (the server must not be running on the data folder)",
  builder: (y) => y.positional("view", { type: "string", demandOption: true }).positional("dir", dirOption).option("data", dataOption) as never,
  handler: guarded(async (args) => {
    const projectDir = checkProjectDir(args.dir);
    const { manifest } = await inspect(projectDir);
    const m = manifest.views.find((v) => v.name === args.view);
    if (!m) throw new CliError(`no view '${args.view}' in ${projectDir}`);
    const dataDir = dataDirOf(args, projectDir);
    const unlock = lockDataDir(dataDir);
    try {
      const [{ openLmdbStore }, { Runtime, RUNTIME_DEFAULTS }] = await Promise.all([import("../storage/lmdb-store.js"), import("../host/runtime.js")]);
      const store = openLmdbStore({ path: dataDir });
      const meta = store.read((txn) => txn.get("meta", encodeKey(["view", m.table]))) as ViewMeta | undefined;
      // Forget what the table was built for: the runtime sees it as changed and rebuilds it.
      if (meta) await store.write((txn) => { txn.put("meta", encodeKey(["view", m.table]), { ...meta, signature: "", status: "ready" }); });
      await store.close();
      const log = createLogger({ format: "pretty", level: "info" });
      const started = performance.now();
      const rt = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir, dataDir, log, workers: availableParallelism(), durability: "full" });
      await rt.viewsSettled();
      await rt.stop();
      process.stdout.write(`rebuilt view '${m.name}' in ${Math.round(performance.now() - started)} ms\n`);
    } finally {
      unlock();
    }
  }),
};

const drop: CommandModule<object, Args> = {
  command: "drop <table>",
  describe: "delete a view table's rows and indexes (for views removed from the code)",
  builder: (y) => y.positional("table", { type: "string", demandOption: true }).option("data", { ...dataOption, default: ".calyx" }) as never,
  handler: guarded(async (args) => {
    const dataDir = dataDirOf(args, undefined);
    const unlock = lockDataDir(dataDir);
    try {
      const { openLmdbStore } = await import("../storage/lmdb-store.js");
      const store = openLmdbStore({ path: dataDir });
      const key = encodeKey(["view", args.table ?? ""]);
      const meta = store.read((txn) => txn.get("meta", key)) as ViewMeta | undefined;
      if (!meta) throw new CliError(`no stored view table '${args.table}' in ${dataDir} (see: calyx views list)`);
      let removed = 0;
      const targets: [DbName, Buffer][] = [["rows", encodeKeyPrefix([args.table ?? ""])], ...meta.indexIds.map((id): [DbName, Buffer] => ["index", encodeKeyPrefix([id])])];
      for (const [db, prefix] of targets) {
        removed += await store.write((txn) => {
          let n = 0;
          for (const { key: k } of txn.range(db, { start: prefix, end: prefixEnd(prefix) })) { txn.remove(db, k); n++; }
          return n;
        });
      }
      await store.write((txn) => { txn.remove("meta", key); });
      await store.close();
      process.stdout.write(`dropped view table '${args.table}' (${removed} keys)\n`);
    } finally {
      unlock();
    }
  }),
};

export const viewsCommand: CommandModule = {
  command: "views <command>",
  describe: "list, explain, rebuild or drop view tables",
  builder: (y) => y.command([list, explain, rebuild, drop] as unknown as CommandModule[]).demandCommand(1),
  handler: () => undefined,
};
