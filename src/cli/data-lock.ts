// One server per data folder: a second `calyx run` (or `calyx views rebuild`)
// on a folder in use would be a second writer. The lock is a file holding the
// owner's pid; a lock left by a process that no longer exists (kill -9) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "./serve-errors.js";

const LOCK_FILE = "calyx.pid";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the data folder's lock; returns its release function. Throws a CliError naming the owner. */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new CliError(`data folder ${dataDir} is in use by another Calyx process (pid ${owner}); stop it first, or use another --data`);
      }
      rmSync(path, { force: true }); // a stale lock from a process that died
    }
  }
  throw new CliError(`could not lock data folder ${dataDir}`);
}
