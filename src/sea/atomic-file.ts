// Writes that other processes and threads never see half done: write a
// uniquely named temp file beside the target, fsync, rename over the target.
// Concurrent writers of the same content-addressed file all succeed; the last
// rename wins and every reader sees one complete copy.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { threadId } from "node:worker_threads";

/** A name no other writer (process or thread) uses at the same time. */
export function tempNameFor(target: string): string {
  return `${target}.${process.pid}-${threadId}-${randomBytes(4).toString("hex")}.tmp`;
}

export function writeFileAtomic(target: string, data: Uint8Array, mode: number): void {
  const temp = tempNameFor(target);
  try {
    const fd = openSync(temp, "wx", mode);
    try {
      let written = 0;
      while (written < data.byteLength) written += writeSync(fd, data, written, data.byteLength - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
