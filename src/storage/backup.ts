// Backup, restore, export, import.
//
// - backup: a consistent, compacted online copy of the LMDB environment into
//   ONE file (the data.mdb of the copy). The store keeps serving meanwhile.
// - restore: puts such a file in place as a data folder's data.mdb, after
//   checking it is a Calyx store of this format version. Refuses a folder that
//   already holds data unless `force`.
// - export / import: NDJSON, a logical dump that survives format changes.
//   Line 1 is a header; then state, journal and the other key-value databases
//   (rows, index, offsets, timers) with decoded keys. entityLog is rebuilt from
//   the journal on import; meta is written fresh.
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { StorageError } from "./errors.js";
import { decodeKey, encodeKey } from "./key-codec.js";
import { CACHE_FILES, FORMAT_VERSION, decodeJournalKey, entityLogKey, journalKey } from "./layout.js";
import { openLmdbStore, type LmdbStore } from "./lmdb-store.js";
import type { DbName, JournalRecord, KeyPart, ReadTxn, StoredState } from "./store.js";

/** Called now and then while a long operation runs. `total` is an estimate when known. */
export type Progress = (done: number, total: number | undefined) => void;

const LMDB_FILES = ["data.mdb", "lock.mdb"];

// ---- backup / restore ---------------------------------------------------------

/**
 * Writes a consistent, compacted copy of the store to `file` (replacing it
 * atomically if it exists). `onProgress` gets bytes written / the source's
 * size (an upper bound: compaction makes the copy smaller).
 */
export async function backup(store: LmdbStore, file: string, onProgress?: Progress): Promise<{ bytes: number }> {
  const staging = `${file}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  const copied = join(staging, "data.mdb");
  const total = fileSize(join(store.path, "data.mdb"));
  const timer = onProgress ? setInterval(() => onProgress(fileSize(copied) ?? 0, total), 200) : undefined;
  try {
    await store.copyTo(staging);
    const bytes = fileSize(copied) ?? 0;
    onProgress?.(bytes, bytes);
    renameSync(copied, file);
    return { bytes };
  } finally {
    if (timer) clearInterval(timer);
    rmSync(staging, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  /** Replace the data of a folder that already has some. */
  readonly force?: boolean;
}

/**
 * Makes `dataDir` a data folder holding the backup in `file`. The backup is
 * checked (opens, right format version) in a staging folder first; the
 * folder's data.mdb is replaced by a rename, so a failed restore leaves the
 * folder as it was. No server may be running on `dataDir`.
 */
export async function restore(file: string, dataDir: string, options: RestoreOptions = {}): Promise<void> {
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new StorageError("ERR_RESTORE_TARGET", `backup file ${file} does not exist or is not a file`);
  }
  mkdirSync(dataDir, { recursive: true });
  const present = readdirSync(dataDir).filter((f) => !f.startsWith(".restore-") && !CACHE_FILES.has(f));
  if (present.length > 0 && !options.force) {
    throw new StorageError(
      "ERR_RESTORE_TARGET",
      `${dataDir} is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", …" : ""}); ` +
        `restore refuses to overwrite data: pick an empty folder, or pass --force to replace its data`,
    );
  }
  const staging = join(dataDir, `.restore-${process.pid}-${Date.now()}`);
  mkdirSync(staging);
  try {
    await copyFile(file, join(staging, "data.mdb"));
    const check = openLmdbStore({ path: staging, readOnly: true }); // throws ERR_FORMAT_VERSION / ERR_OPEN_FAILED
    await check.close();
    for (const f of LMDB_FILES) rmSync(join(dataDir, f), { force: true });
    renameSync(join(staging, "data.mdb"), join(dataDir, "data.mdb"));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// ---- export -----------------------------------------------------------------

export interface ExportHeader {
  readonly kind: "header";
  readonly format: "calyx-export";
  readonly version: 1;
  readonly storageFormat: number;
  readonly exportedAt: string;
}

/** The other databases exported as generic key-value lines. */
const KV_DBS: readonly DbName[] = ["rows", "index", "offsets", "timers"];

/**
 * Writes the store as NDJSON to `out` from ONE read snapshot (consistent even
 * while the server writes). Resolves with the number of lines written; does
 * not end `out`.
 */
export async function exportNdjson(store: LmdbStore, out: Writable, onProgress?: Progress): Promise<{ lines: number }> {
  const snap = store.snapshot();
  let lines = 0;
  const write = async (obj: unknown): Promise<void> => {
    lines++;
    if (!out.write(`${JSON.stringify(toJson(obj))}\n`)) await new Promise<void>((resolve) => out.once("drain", resolve));
    if (onProgress && lines % 10_000 === 0) onProgress(lines, undefined);
  };
  try {
    const header: ExportHeader = { kind: "header", format: "calyx-export", version: 1, storageFormat: FORMAT_VERSION, exportedAt: new Date().toISOString() };
    await write(header);
    for (const { key, value } of snap.range("state", {})) {
      const [component, id] = decodeKey(key) as [string, string];
      const s = value as StoredState;
      await write({ kind: "state", component, id, seq: s.seq, ...(s.deleted ? { deleted: true } : { state: s.state }) });
    }
    for (const { key, value } of snap.range("journal", {})) {
      // `prev` (and the state's `last`) chain an entity's history by global
      // sequence inside one folder; import files every write in entityLog instead.
      const { prev: _prev, ...record } = value as JournalRecord;
      await write({ kind: "journal", globalSeq: decodeJournalKey(key), ...record });
    }
    for (const db of KV_DBS) {
      for (const { key, value } of snap.range(db, {})) await write({ kind: "kv", db, ...exportKey(key), value });
    }
  } finally {
    snap.done();
  }
  onProgress?.(lines, lines);
  return { lines };
}

function exportKey(key: Buffer): { key: KeyPart[] } | { keyHex: string } {
  try {
    const parts = decodeKey(key);
    if (encodeKey(parts).equals(key)) return { key: parts };
  } catch {
    // not made by our codec: keep the bytes
  }
  return { keyHex: key.toString("hex") };
}

// ---- import -----------------------------------------------------------------

/** Lines applied per write transaction during import. */
const IMPORT_LINES_PER_TXN = 10_000;

/**
 * Loads an NDJSON export into the store, which must be empty. Rebuilds
 * entityLog from the journal. Rejects with ERR_IMPORT_FORMAT (with the line
 * number) on malformed input; lines before it stay imported, so import into
 * a fresh folder and delete it on failure.
 */
export async function importNdjson(store: LmdbStore, file: string, onProgress?: Progress): Promise<{ lines: number }> {
  const nonEmpty = store.journalHead() > 0 || store.read((txn) => anyEntry(txn));
  if (nonEmpty) {
    throw new StorageError("ERR_RESTORE_TARGET", `the data folder ${store.path} already holds data; import only into an empty folder`);
  }
  const total = fileSize(file);
  let bytes = 0;
  let lineNo = 0;
  let pending: ImportLine[] = [];
  let lastGlobalSeq = 0;
  let lastWrite: { component: string; id: string; entitySeq: number } | undefined;
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    await store.write((txn) => {
      for (const item of batch) {
        switch (item.kind) {
          case "state":
            txn.put("state", encodeKey([item.component, item.id]), item.value);
            break;
          case "journal":
            txn.put("journal", journalKey(item.globalSeq), item.record);
            if (item.firstOfWrite) txn.put("entityLog", entityLogKey(item.record.component, item.record.id, item.record.entitySeq), item.globalSeq);
            break;
          case "kv":
            txn.put(item.db, item.key, item.value);
            break;
        }
      }
    });
  };
  const rl = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const text of rl) {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === "") continue;
    let obj: Record<string, unknown>;
    try {
      obj = fromJson(JSON.parse(text)) as Record<string, unknown>;
    } catch (error) {
      throw importError(file, lineNo, `not JSON: ${(error as Error).message}`);
    }
    if (lineNo === 1) {
      if (obj["kind"] !== "header" || obj["format"] !== "calyx-export") throw importError(file, lineNo, "the first line is not a calyx-export header");
      if (obj["version"] !== 1) throw importError(file, lineNo, `export version ${String(obj["version"])} is not supported (this Calyx reads version 1)`);
      continue;
    }
    const item = parseLine(obj, file, lineNo);
    if (item.kind === "journal") {
      if (item.globalSeq <= lastGlobalSeq) throw importError(file, lineNo, `journal sequence ${item.globalSeq} does not follow ${lastGlobalSeq}`);
      lastGlobalSeq = item.globalSeq;
      const r = item.record;
      item.firstOfWrite = !(lastWrite && lastWrite.component === r.component && lastWrite.id === r.id && lastWrite.entitySeq === r.entitySeq);
      lastWrite = { component: r.component, id: r.id, entitySeq: r.entitySeq };
    }
    pending.push(item);
    if (pending.length >= IMPORT_LINES_PER_TXN) {
      await flush();
      onProgress?.(bytes, total);
    }
  }
  if (lineNo === 0) throw importError(file, 1, "the file is empty");
  if (pending.length > 0) await flush();
  onProgress?.(total ?? bytes, total);
  return { lines: lineNo };
}

type ImportLine =
  | { kind: "state"; component: string; id: string; value: StoredState }
  | { kind: "journal"; globalSeq: number; record: JournalRecord; firstOfWrite: boolean }
  | { kind: "kv"; db: DbName; key: Buffer; value: unknown };

function parseLine(obj: Record<string, unknown>, file: string, lineNo: number): ImportLine {
  const str = (name: string): string => {
    const v = obj[name];
    if (typeof v !== "string") throw importError(file, lineNo, `'${name}' must be a string`);
    return v;
  };
  const int = (name: string): number => {
    const v = obj[name];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw importError(file, lineNo, `'${name}' must be a non-negative integer`);
    return v as number;
  };
  switch (obj["kind"]) {
    case "state": {
      const seq = int("seq");
      const value: StoredState = obj["deleted"] === true ? { seq, state: undefined, deleted: true } : { seq, state: obj["state"] };
      return { kind: "state", component: str("component"), id: str("id"), value };
    }
    case "journal": {
      const record: JournalRecord = {
        component: str("component"), id: str("id"), entitySeq: int("entitySeq"), type: str("type"),
        payload: obj["payload"], time: int("time"), partition: int("partition"),
      };
      return { kind: "journal", globalSeq: int("globalSeq"), record, firstOfWrite: true };
    }
    case "kv": {
      const db = obj["db"];
      if (typeof db !== "string" || !(KV_DBS as readonly string[]).includes(db)) throw importError(file, lineNo, `'db' must be one of ${KV_DBS.join(", ")}`);
      let key: Buffer;
      if (Array.isArray(obj["key"])) {
        try {
          key = encodeKey(obj["key"] as KeyPart[]);
        } catch (error) {
          throw importError(file, lineNo, `bad key: ${(error as Error).message}`);
        }
      } else if (typeof obj["keyHex"] === "string" && /^([0-9a-f]{2})+$/.test(obj["keyHex"])) key = Buffer.from(obj["keyHex"], "hex");
      else throw importError(file, lineNo, "a kv line needs 'key' (array) or 'keyHex'");
      return { kind: "kv", db: db as DbName, key, value: obj["value"] };
    }
    default:
      throw importError(file, lineNo, `unknown kind ${JSON.stringify(obj["kind"])}`);
  }
}

function anyEntry(txn: ReadTxn): boolean {
  for (const db of ["state", ...KV_DBS] as DbName[]) for (const e of txn.range(db, { limit: 1 })) if (e) return true;
  return false;
}

function importError(file: string, line: number, why: string): StorageError {
  return new StorageError("ERR_IMPORT_FORMAT", `${basename(file)}:${line}: ${why}; nothing after this line was imported`);
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

// ---- JSON with the msgpack types JSON lacks ------------------------------------
// Tagged objects: {"$bytes": base64}, {"$date": iso}, {"$undefined": 1},
// {"$bigint": "…"}, {"$num": "NaN"|"Infinity"|"-Infinity"|"-0"},
// {"$map": [[k, v], …]}, {"$set": […]}. A plain object with a key starting
// with "$" is written as {"$object": [[k, v], …]} so tags stay unambiguous.

export function toJson(v: unknown): unknown {
  if (v === undefined) return { $undefined: 1 };
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (Number.isFinite(v)) return Object.is(v, -0) ? { $num: "-0" } : v;
    return { $num: String(v) };
  }
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Map) return { $map: Array.from(v, ([k, x]) => [toJson(k), toJson(x)]) };
  if (v instanceof Set) return { $set: Array.from(v, toJson) };
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.some(([k]) => k.startsWith("$"))) return { $object: entries.map(([k, x]) => [k, toJson(x)]) };
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries) out[k] = toJson(x);
    return out;
  }
  throw new TypeError(`cannot export a value of type ${typeof v}`);
}

export function fromJson(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(fromJson);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const tag = keys[0] as string;
    const x = o[tag];
    switch (tag) {
      case "$undefined":
        return undefined;
      case "$num":
        return x === "-0" ? -0 : Number(x);
      case "$bigint":
        return BigInt(x as string);
      case "$bytes":
        return Buffer.from(x as string, "base64");
      case "$date":
        return new Date(x as string);
      case "$map":
        return new Map((x as [unknown, unknown][]).map(([k, y]) => [fromJson(k), fromJson(y)]));
      case "$set":
        return new Set((x as unknown[]).map(fromJson));
      case "$object":
        return Object.fromEntries((x as [string, unknown][]).map(([k, y]) => [k, fromJson(y)]));
      default:
        break;
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = fromJson(o[k]);
  return out;
}

