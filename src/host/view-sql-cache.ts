// The parsed SQL of the project's view queries, kept between starts: a
// restart whose view queries did not change compiles its views without
// node-sql-parser (measured: loading it and parsing the example's three
// queries took ≈ 10 ms of the main thread after the workers' manifest, plus
// the parser's loading while the workers boot; docs/host.md "Start-up").
// One JSON file in the data folder, like the transpile cache beside it. Its
// entries hold the IR exactly as src/query/parse/parse-query.ts made it, and
// they are only read by the same build of the query compiler (its sources'
// hash, fixed at build time; run from source there is none, and no cache).
// An entry that would not come back identical through JSON is not written. A
// missing, damaged, stale or unwritable cache costs a parse, never an error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { knownParse, rememberParse, type ParsedQuery } from "../query/parse/parse-query.js";
import { writeFileAtomic } from "../sea/atomic-file.js";
import { VIEW_SQL_CACHE_FILE } from "../storage/layout.js";
import type { Manifest } from "./messages.js";

export { VIEW_SQL_CACHE_FILE };

declare const __CALYX_QUERY_BUILD__: string | undefined;
/** The query compiler's build (scripts/build.mjs); undefined when run from source. */
const QUERY_BUILD: string | undefined = typeof __CALYX_QUERY_BUILD__ === "string" ? __CALYX_QUERY_BUILD__ : undefined;
/** Escape hatch, as for the other caches: CALYX_VIEW_SQL_CACHE=0 parses every time. */
const ENABLED_ENV = "CALYX_VIEW_SQL_CACHE";

interface Entry {
  readonly table: string;
  readonly sql: string;
  readonly parsed: ParsedQuery;
}

interface CacheFile {
  readonly format: string;
  readonly entries: readonly Entry[];
}

export class ViewSqlCache {
  readonly #file: string | undefined;
  readonly #format: string;
  #entries: readonly Entry[];

  private constructor(file: string | undefined, format: string, entries: readonly Entry[]) {
    this.#file = file;
    this.#format = format;
    this.#entries = entries;
  }

  /**
   * The cache kept in `dataDir` (empty when disabled, missing, unreadable or
   * of another build). `build` is the query compiler's build; tests pass one.
   */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env, build: string | undefined = QUERY_BUILD): ViewSqlCache {
    if (build === undefined || env[ENABLED_ENV] === "0") return new ViewSqlCache(undefined, "", []);
    const format = `1/${build}`;
    const file = join(dataDir, VIEW_SQL_CACHE_FILE);
    let entries: Entry[] = [];
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<CacheFile>;
      if (parsed.format === format && Array.isArray(parsed.entries)) entries = parsed.entries.filter(isEntry).map(frozen);
    } catch {
      // No cache yet, or one we cannot read: start empty.
    }
    return new ViewSqlCache(file, format, entries);
  }

  /** Hands the cached parses to the query compiler; returns how many. */
  seed(): number {
    for (const e of this.#entries) rememberParse(e.table, e.sql, e.parsed);
    return this.#entries.length;
  }

  /**
   * Replaces the cache with the parses of exactly these views' queries (so it
   * does not grow with every edit); writes only when that changes it.
   */
  store(views: Manifest["views"]): void {
    if (this.#file === undefined) return;
    const stored = this.#entries.map(keyOf);
    const queries = views.flatMap((v) => v.queries.map((q) => ({ table: v.table, sql: q.sql })));
    // The usual start: the same queries as the file holds; nothing to check or write.
    if (isDeepStrictEqual(queries.map(keyOf), stored)) return;
    const entries: Entry[] = [];
    for (const { table, sql } of queries) {
      const parsed = knownParse(table, sql);
      if (parsed === undefined || !isDeepStrictEqual(JSON.parse(JSON.stringify(parsed)), parsed)) continue;
      entries.push({ table, sql, parsed });
    }
    if (isDeepStrictEqual(entries.map(keyOf), stored)) return;
    try {
      writeFileAtomic(this.#file, Buffer.from(JSON.stringify({ format: this.#format, entries } satisfies CacheFile)), 0o644);
      this.#entries = entries;
    } catch {
      // Unwritable data folder, full disk…: the next start parses again.
    }
  }
}

function keyOf(e: { readonly table: string; readonly sql: string }): string {
  return `${e.table}\u0000${e.sql}`;
}

function isEntry(e: unknown): e is Entry {
  const o = e as Partial<Entry> | null;
  return o !== null && typeof o === "object" && typeof o.table === "string" && typeof o.sql === "string" &&
    o.parsed !== null && typeof o.parsed === "object" && typeof o.parsed.select === "object" && Array.isArray(o.parsed.params);
}

/** Frozen throughout, as the parser makes its IR. */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}
