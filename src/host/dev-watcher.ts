// `calyx dev`: watches the project's src/ and reloads on save. A burst of
// saves (an editor writing several files, a git checkout) triggers one reload;
// a save during a reload triggers one more after it.
//
// One non-recursive watch per directory (inotify on Linux watches a
// directory's entries by name). Node 20's `fs.watch(dir, { recursive: true })`
// on Linux watches every file's inode instead, so a save that replaces the
// file — a temporary file renamed over it, as vim, IDEs, `sed -i` and
// `git checkout` do — was seen once and never again for that file. The
// watches are set up synchronously in start(); a directory created later is
// watched as soon as its creation is seen, a removed one's watch is closed.
import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";

export interface DevWatcherOptions {
  readonly projectDir: string;
  /** Quiet time after the last change before reloading. */
  readonly debounceMs: number;
  readonly reload: () => Promise<void>;
}

/** Editor temp files and hidden entries: never a reason to reload, never watched. */
const IGNORED = /^\.|~$|\.swp$/;
export const ignoredName = (name: string): boolean => IGNORED.test(name);
/** Directories that are not the project's sources even when under src/. */
const SKIPPED_DIRS = new Set(["node_modules"]);

export class DevWatcher {
  readonly #options: DevWatcherOptions;
  /** Watched directory → its watcher. */
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: DevWatcherOptions) {
    this.#options = options;
  }

  start(): void {
    this.#watchTree(join(this.#options.projectDir, "src"));
  }

  /** The directories watched now (for tests and diagnostics). */
  watchedDirectories(): string[] {
    return [...this.#watchers.keys()];
  }

  /** Watches `dir` and every directory under it; returns false when `dir` is not a directory (any more). */
  #watchTree(dir: string): boolean {
    if (this.#stopped || this.#watchers.has(dir)) return true;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (_event, name) => this.#changed(dir, name === null ? null : String(name)));
    } catch {
      return false; // gone already, or not a directory
    }
    watcher.on("error", () => this.#unwatch(dir)); // e.g. the directory was removed
    this.#watchers.set(dir, watcher);
    let entries: { name: string; isDirectory(): boolean }[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      // removed between watch() and readdir(): its watcher reports it
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !ignoredName(entry.name) && !SKIPPED_DIRS.has(entry.name)) this.#watchTree(join(dir, entry.name));
    }
    return true;
  }

  #unwatch(dir: string): void {
    for (const [path, watcher] of this.#watchers) {
      if (path === dir || path.startsWith(dir + "/") || path.startsWith(dir + "\\")) {
        watcher.close();
        this.#watchers.delete(path);
      }
    }
  }

  #changed(dir: string, name: string | null): void {
    if (name !== null) {
      if (ignoredName(name)) return;
      const path = join(dir, name);
      if (!SKIPPED_DIRS.has(name)) {
        // A new directory (or one renamed into place) is watched from now on
        // (what it already holds is read by the reload this event schedules);
        // a removed one is forgotten.
        let isDir = false;
        try {
          isDir = statSync(path).isDirectory();
        } catch {
          this.#unwatch(path);
        }
        if (isDir) this.#watchTree(path);
      }
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running) {
        this.#again = true;
        return;
      }
      this.#running = this.#options.reload().finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule();
        }
      });
    }, this.#options.debounceMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
