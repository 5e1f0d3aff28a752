// The transpiled project, kept between starts: a restart whose sources did not
// change reuses the JavaScript of the last start and never loads sucrase
// (≈ 50 ms of module loading on the start-up path, measured). One JSON file in
// the data folder, beside the LMDB files (so it goes away with the data and
// leaves nothing in the user's home); entries are keyed by the SHA-256 of the
// file's path and source, so a stale entry can only miss. The cache is an
// optimisation only: a missing, damaged or unwritable cache costs a normal
// transpile, never an error.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../sea/atomic-file.js";
import { VERSION } from "../cli/version.js";
import { TRANSPILE_CACHE_FILE } from "../storage/layout.js";

export { TRANSPILE_CACHE_FILE };
/** Changes with the transpile options and with Calyx's version (entries of another format are ignored). */
const FORMAT = `1/${VERSION}`;
/** Escape hatch, as for the executable's code cache: CALYX_TRANSPILE_CACHE=0 transpiles every time. */
const ENABLED_ENV = "CALYX_TRANSPILE_CACHE";

interface CacheFile {
  readonly format: string;
  readonly entries: Record<string, string>;
}

export class TranspileCache {
  readonly #file: string | undefined;
  #entries: Map<string, string>;
  readonly #keys = new Map<string, { readonly source: string; readonly key: string }>();

  private constructor(file: string | undefined, entries: Map<string, string>) {
    this.#file = file;
    this.#entries = entries;
  }

  /** The cache kept in `dataDir` (empty when disabled, missing or unreadable). */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): TranspileCache {
    if (env[ENABLED_ENV] === "0") return new TranspileCache(undefined, new Map());
    const file = join(dataDir, TRANSPILE_CACHE_FILE);
    const entries = new Map<string, string>();
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<CacheFile>;
      if (parsed.format === FORMAT && parsed.entries !== null && typeof parsed.entries === "object") {
        for (const [key, code] of Object.entries(parsed.entries)) if (typeof code === "string") entries.set(key, code);
      }
    } catch {
      // No cache yet, or one we cannot read: start empty.
    }
    return new TranspileCache(file, entries);
  }

  /** The cached output for each source; the files missing from the result must be transpiled. */
  lookup(sources: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [file, source] of Object.entries(sources)) {
      const code = this.#entries.get(this.#key(file, source));
      if (code !== undefined) out[file] = code;
    }
    return out;
  }

  /**
   * Replaces the cache with exactly these modules (entries of files that no
   * longer exist or changed are dropped, so the file does not grow forever).
   */
  store(sources: Readonly<Record<string, string>>, compiled: Readonly<Record<string, string>>): void {
    if (this.#file === undefined) return;
    const entries = new Map<string, string>();
    let changed = false;
    for (const [file, code] of Object.entries(compiled)) {
      const source = sources[file];
      if (source === undefined) continue;
      const key = this.#key(file, source);
      entries.set(key, code);
      if (this.#entries.get(key) !== code) changed = true;
    }
    if (!changed && entries.size === this.#entries.size) return;
    try {
      writeFileAtomic(this.#file, Buffer.from(JSON.stringify({ format: FORMAT, entries: Object.fromEntries(entries) } satisfies CacheFile)), 0o644);
      this.#entries = entries;
    } catch {
      // Unwritable data folder, full disk…: the next start transpiles again.
    }
  }

  /** SHA-256 of path and source, hashed once per file for lookup() and store(). */
  #key(file: string, source: string): string {
    const known = this.#keys.get(file);
    if (known !== undefined && known.source === source) return known.key;
    const key = createHash("sha256").update(`${file}\0${source}`).digest("hex");
    this.#keys.set(file, { source, key });
    return key;
  }
}
