// `calyx dev`: watches the project's src/ and reloads on save. A burst of
// saves (an editor writing several files, a git checkout) triggers one reload;
// a save during a reload triggers one more after it.
import { watch, type FSWatcher } from "node:fs";
import { join } from "node:path";

export interface DevWatcherOptions {
  readonly projectDir: string;
  /** Quiet time after the last change before reloading. */
  readonly debounceMs: number;
  readonly reload: () => Promise<void>;
}

export class DevWatcher {
  readonly #options: DevWatcherOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: DevWatcherOptions) {
    this.#options = options;
  }

  start(): void {
    this.#watcher = watch(join(this.#options.projectDir, "src"), { recursive: true }, (_event, file) => {
      if (file && /(^|\/)\.|~$|\.swp$/.test(String(file))) return; // editor temp files
      this.#schedule();
    });
  }

  #schedule(): void {
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
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
