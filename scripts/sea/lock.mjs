// One package build at a time per work folder: several engineers' test runs
// share this working tree, and two builds would overwrite each other's files.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";

const WAIT_MS = 180_000;
const POLL_MS = 200;

/** Takes `file` as a lock (waiting for a live holder, taking over a dead one's); returns the release function. */
export async function acquireLock(file, log = () => {}) {
  const deadline = Date.now() + WAIT_MS;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    const holder = Number(readSafe(file));
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      rmSync(file, { force: true }); // its builder died: take over
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another package build (pid ${holder}) has held ${file} for over ${WAIT_MS / 1000} s`);
    if (!told) { log(`calyx: waiting for another package build (pid ${holder}) to finish`); told = true; }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function readSafe(file) {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}
