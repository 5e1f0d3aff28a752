// The on-disk layout shared by both stores and the committer: database names,
// how each key is built, the format version. README.md documents it for
// humans; changing anything here that changes bytes on disk needs a new
// FORMAT_VERSION.
import { encodeKey, encodeKeyPrefix, encodeKeyTransient, prefixEnd } from "./key-codec.js";
import type { DbName } from "./store.js";

/**
 * Version of the storage format (layout + key codec + value encoding). A data
 * folder written with another version is refused (ERR_FORMAT_VERSION), except
 * the older ones format-check.ts lists as readable (2 reads 1).
 */
export const FORMAT_VERSION = 2;

/**
 * The file in a data folder where the host keeps the transpiled project
 * (src/host/transpile-cache.ts): a cache, no data, so restore does not count
 * it when it checks that a folder is empty.
 */
export const TRANSPILE_CACHE_FILE = "transpile-cache.json";

/** The view SQL cache (src/host/view-sql-cache.ts): parsed view queries, a cache like the one above. */
export const VIEW_SQL_CACHE_FILE = "view-sql-cache.json";

/** Files in a data folder that are caches, not data: deleting one is always safe. */
export const CACHE_FILES: ReadonlySet<string> = new Set([TRANSPILE_CACHE_FILE, VIEW_SQL_CACHE_FILE]);

export const DB_NAMES: readonly DbName[] = ["state", "journal", "entityLog", "rows", "index", "offsets", "timers", "meta"];

/** meta/["formatVersion"] -> FORMAT_VERSION, written when the folder is created. */
export const META_FORMAT_VERSION_KEY = encodeKey(["formatVersion"]);
/** meta/["createdAt"] -> ms since epoch, informational. */
export const META_CREATED_AT_KEY = encodeKey(["createdAt"]);

/**
 * The partition of an entity. Always 0 while Calyx runs on one machine; when
 * entities are split across partitions (DESIGN §4) this becomes a hash of
 * (component, id) modulo the configured partition count, and each partition
 * gets its own journal sequence. Journal records already carry it, so that
 * step changes configuration, not the format.
 */
export function partitionOf(component: string, id: string): number {
  void component;
  void id;
  return 0;
}

/** state/[component, id] */
export function stateKey(component: string, id: string): Buffer {
  return encodeKey([component, id]);
}

/** stateKey as a transient view (see encodeKeyTransient): for immediate lookups only. */
export function stateKeyTransient(component: string, id: string): Buffer {
  return encodeKeyTransient([component, id]);
}

/** entityLog/[component, id, entitySeq]: written by format 1 (and by import); read for the writes it holds (history.ts). */
export function entityLogKey(component: string, id: string, entitySeq: number): Buffer {
  return encodeKey([component, id, entitySeq]);
}

/** [start, end) of every entityLog key of one entity with entitySeq >= fromEntitySeq. */
export function entityLogRange(component: string, id: string, fromEntitySeq: number): { start: Buffer; end: Buffer } {
  return { start: encodeKey([component, id, fromEntitySeq]), end: prefixEnd(encodeKeyPrefix([component, id])) };
}

/** Largest global sequence the JS side can represent exactly. */
export const GLOBAL_SEQ_MAX = Number.MAX_SAFE_INTEGER;

/** journal/[globalSeq]: an unsigned 64-bit big-endian integer (8 bytes), so byte order is numeric order. */
export function journalKey(globalSeq: number): Buffer {
  if (!Number.isSafeInteger(globalSeq) || globalSeq < 0) {
    throw new RangeError(`journal sequence ${globalSeq} is not an integer in [0, 2^53)`);
  }
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(globalSeq / 0x1_0000_0000), 0);
  b.writeUInt32BE(globalSeq >>> 0, 4);
  return b;
}

export function decodeJournalKey(key: Buffer): number {
  if (key.length !== 8) throw new Error(`layout: journal key must be 8 bytes, got ${key.length}`);
  const hi = key.readUInt32BE(0);
  const n = hi * 0x1_0000_0000 + key.readUInt32BE(4);
  if (!Number.isSafeInteger(n)) throw new RangeError(`journal sequence ${key.toString("hex")} exceeds 2^53`);
  return n;
}
