// Checks done before a data folder is used: the LMDB file header (before
// LMDB sees the file) and the Calyx storage format version (before anything
// is read or written).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "./errors.js";
import { FORMAT_VERSION, META_CREATED_AT_KEY, META_FORMAT_VERSION_KEY } from "./layout.js";
import type { Database, RootDatabase } from "lmdb";

type Db = Database<unknown, Buffer>;

// LMDB trusts its meta pages: opening a file that is not an LMDB environment
// can crash the process (SIGSEGV) instead of failing. Check the first meta
// page's magic and data version before handing the file to LMDB.
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_DATA_VERSION = 2;
const LMDB_META_MAGIC_OFFSET = 24;

/** Throws ERR_OPEN_FAILED unless `dir`/data.mdb is absent or starts like an LMDB data file. */
export function checkDataFileHeader(dir: string): void {
  const file = join(dir, "data.mdb");
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return;
    throw new StorageError("ERR_OPEN_FAILED", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const head = Buffer.alloc(LMDB_META_MAGIC_OFFSET + 8);
    const n = readSync(fd, head, 0, head.length, 0);
    const size = fstatSync(fd).size;
    if (size === 0) return; // created but never written: LMDB initialises it
    if (n < head.length || head.readUInt32LE(LMDB_META_MAGIC_OFFSET) !== LMDB_MAGIC || head.readUInt32LE(LMDB_META_MAGIC_OFFSET + 4) !== LMDB_DATA_VERSION) {
      throw new StorageError(
        "ERR_OPEN_FAILED",
        `${file} is not an LMDB data file of the version lmdb-js 3 writes (bad magic/version in its first page); ` +
          `it is damaged or not a Calyx data file — restore it from a backup`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks the storage format version BEFORE any named database is created, so
 * a foreign or other-version folder is refused untouched. Returns "fresh" for
 * an environment with no named database at all (the caller creates the
 * databases, then calls writeFormatVersion), "ok" for a folder of this version
 * or one this version reads as it is (READABLE_FORMATS), "upgrade" when such
 * an older folder was opened read-write: the caller marks it with this version
 * (upgradeFormatVersion) so that older Calyx versions refuse it from then on.
 */
export function checkFormatVersion(env: RootDatabase<unknown, Buffer>, path: string, readOnly: boolean): "fresh" | "ok" | "upgrade" {
  // `create: false` (a runtime option lmdb-js's types lack): undefined if absent.
  const noCreate = { name: "meta", keyEncoding: "binary", encoding: "msgpack", create: false } as const;
  const meta = env.openDB<unknown, Buffer>(noCreate as unknown as { name: string });
  if (meta === undefined) {
    // The root database of an LMDB environment lists its named databases.
    let named = false;
    for (const key of env.getKeys({ limit: 1 })) named = key !== undefined;
    if (!named) {
      if (readOnly) throw new StorageError("ERR_OPEN_FAILED", `data folder ${path} is empty and was opened read-only; open it read-write first`);
      return "fresh";
    }
    throw new StorageError(
      "ERR_FORMAT_VERSION",
      `data folder ${path} holds an LMDB environment without a Calyx format version: it was not written by Calyx; ` +
        `refusing to read it or change it. Point --data at a Calyx data folder or an empty one`,
    );
  }
  const found = meta.get(META_FORMAT_VERSION_KEY);
  if (found === FORMAT_VERSION) return "ok";
  if (READABLE_FORMATS.includes(found as number)) return readOnly ? "ok" : "upgrade";
  if (found === undefined) {
    throw new StorageError(
      "ERR_FORMAT_VERSION",
      `data folder ${path} has no storage format version: it was not written by Calyx (or its creation was interrupted); ` +
        `refusing to read it. Point --data at a Calyx data folder or an empty one`,
    );
  }
  throw new StorageError(
    "ERR_FORMAT_VERSION",
    `data folder ${path} was written by storage format ${String(found)}; this Calyx reads format ${FORMAT_VERSION}. ` +
      `Nothing was read or changed. Run the Calyx version that wrote it to \`calyx export\` the data, then \`calyx import\` it here`,
  );
}

/**
 * Older formats this version reads and writes without converting anything.
 * Format 1 filed every write in the entityLog index; format 2 chains an
 * entity's writes through its journal records instead (history.ts) and still
 * reads the entityLog entries format 1 left.
 */
const READABLE_FORMATS: readonly number[] = [1];

/** Marks an older folder (READABLE_FORMATS) with this format version. */
export function upgradeFormatVersion(meta: Db): void {
  meta.transactionSync(() => {
    void meta.put(META_FORMAT_VERSION_KEY, FORMAT_VERSION);
  });
}

/** Marks a freshly created folder with this format version. */
export function writeFormatVersion(meta: Db): void {
  meta.transactionSync(() => {
    void meta.put(META_FORMAT_VERSION_KEY, FORMAT_VERSION);
    void meta.put(META_CREATED_AT_KEY, Date.now());
  });
}
