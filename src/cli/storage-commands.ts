// `calyx backup | restore | export | import`: yargs command modules over
// src/storage/backup.ts. Wired into bin/calyx.ts with `.command(storageCommands)`.
// The store and backup code load when one of these commands runs (this module
// is loaded by every command, `calyx run` included).
import { createWriteStream, existsSync } from "node:fs";
import { finished } from "node:stream/promises";
import type { CommandModule } from "yargs";
import type * as BackupModule from "../storage/backup.js";
import type { Progress } from "../storage/backup.js";
import { StorageError } from "../storage/errors.js";
import type { LmdbStore } from "../storage/lmdb-store.js";
import { CliError } from "./serve.js";

/** Where the data lives when --data is not given: the project in the current folder. */
const DEFAULT_DATA_DIR = ".calyx";

interface BackupArgs {
  file: string;
  data: string;
}
interface RestoreArgs {
  file: string;
  data: string;
  force: boolean;
}
interface ExportArgs {
  data: string;
  out: string | undefined;
}
interface ImportArgs {
  file: string;
  data: string;
}

/** Storage failures are operator errors: one line, no stack. */
async function run(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof StorageError) throw new CliError(`${what}: ${error.message}`, `(${error.code})`);
    throw error;
  }
}

async function openExisting(dir: string, readOnly: boolean): Promise<LmdbStore> {
  if (!existsSync(dir)) throw new CliError(`no data folder at ${dir}; pass --data <dir>`);
  const { openLmdbStore } = await import("../storage/lmdb-store.js");
  return openLmdbStore({ path: dir, readOnly });
}

const backupCode = (): Promise<typeof BackupModule> => import("../storage/backup.js");

/** A one-line progress display on a TTY (stderr), nothing otherwise. */
function progressBar(label: string): { update: Progress; done: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    update: (done, total) => {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
      const text = total ? `${Math.min(100, Math.floor((done / total) * 100))}% (${mib(done)} of ≤ ${mib(total)})` : `${done.toLocaleString("en-US")}`;
      process.stderr.write(`\r${label} ${text}   `);
    },
    done: () => {
      if (tty) process.stderr.write("\r\x1b[K");
    },
  };
}

const backupCommand: CommandModule<object, BackupArgs> = {
  command: "backup <file>",
  describe: "write a consistent, compacted copy of the data to one file (the server may keep running)",
  builder: (y) =>
    y.positional("file", { type: "string", demandOption: true, describe: "backup file to write (replaced if it exists)" })
      .option("data", { type: "string", default: DEFAULT_DATA_DIR, describe: "data folder" }),
  handler: (args) =>
    run("backup", async () => {
      const store = await openExisting(args.data, true);
      const { backup } = await backupCode();
      const bar = progressBar("backup");
      try {
        const { bytes } = await backup(store, args.file, bar.update);
        bar.done();
        process.stdout.write(`backup: wrote ${args.file} (${bytes.toLocaleString("en-US")} bytes, journal head ${store.journalHead()})\n`);
      } finally {
        bar.done();
        await store.close();
      }
    }),
};

const restoreCommand: CommandModule<object, RestoreArgs> = {
  command: "restore <file>",
  describe: "make a data folder from a backup file (refuses a folder that holds data unless --force)",
  builder: (y) =>
    y.positional("file", { type: "string", demandOption: true, describe: "backup file written by calyx backup" })
      .option("data", { type: "string", demandOption: true, describe: "data folder to restore into (no server may be running on it)" })
      .option("force", { type: "boolean", default: false, describe: "replace the data of a non-empty folder" }),
  handler: (args) =>
    run("restore", async () => {
      const { restore } = await backupCode();
      await restore(args.file, args.data, { force: args.force });
      process.stdout.write(`restore: ${args.data} now holds the data of ${args.file}\n`);
    }),
};

const exportCommand: CommandModule<object, ExportArgs> = {
  command: "export",
  describe: "write state, journal, view rows, offsets and timers as NDJSON (one consistent snapshot)",
  builder: (y) =>
    y.option("data", { type: "string", default: DEFAULT_DATA_DIR, describe: "data folder" })
      .option("out", { type: "string", describe: "file to write (default: standard output)" }),
  handler: (args) =>
    run("export", async () => {
      const store = await openExisting(args.data, true);
      const { exportNdjson } = await backupCode();
      try {
        if (args.out === undefined) {
          await exportNdjson(store, process.stdout);
          return;
        }
        const out = createWriteStream(args.out);
        const bar = progressBar("export: lines");
        const { lines } = await exportNdjson(store, out, bar.update);
        out.end();
        await finished(out);
        bar.done();
        process.stderr.write(`export: wrote ${lines.toLocaleString("en-US")} lines to ${args.out}\n`);
      } finally {
        await store.close();
      }
    }),
};

const importCommand: CommandModule<object, ImportArgs> = {
  command: "import <file>",
  describe: "load an NDJSON export into an empty data folder",
  builder: (y) =>
    y.positional("file", { type: "string", demandOption: true, describe: "NDJSON file written by calyx export" })
      .option("data", { type: "string", demandOption: true, describe: "data folder to fill (created if missing; must be empty)" }),
  handler: (args) =>
    run("import", async () => {
      if (!existsSync(args.file)) throw new CliError(`import: no file ${args.file}`);
      const [{ openLmdbStore }, { importNdjson }] = await Promise.all([import("../storage/lmdb-store.js"), backupCode()]);
      const store = openLmdbStore({ path: args.data, durability: "none" });
      const bar = progressBar("import");
      try {
        const { lines } = await importNdjson(store, args.file, bar.update);
        bar.done();
        process.stdout.write(`import: loaded ${lines.toLocaleString("en-US")} lines into ${args.data}\n`);
      } finally {
        bar.done();
        await store.close(); // durability "none": close() fsyncs once at the end
      }
    }),
};

/** The storage commands, for `yargs(...).command(storageCommands)`. */
export const storageCommands: CommandModule[] = [
  backupCommand as unknown as CommandModule,
  restoreCommand as unknown as CommandModule,
  exportCommand as unknown as CommandModule,
  importCommand as unknown as CommandModule,
];
