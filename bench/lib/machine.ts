// What the numbers were measured on: cores, CPU model, kernel, memory, Node,
// the commit, and the disk's fsync latency measured now (group commit only
// pays off because of it).
import { execFileSync } from "node:child_process";
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { cpus, release, tmpdir, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import { REPO_DIR } from "./paths.js";

export interface FsyncProbe {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** One-at-a-time fsyncs per second at the median. */
  readonly perSecond: number;
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly wrk: string | null;
  readonly fsync: FsyncProbe;
  readonly fsyncDir: string;
}

export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  /** Files changed under src/ bin/ scripts/ at run time (uncommitted work measured). */
  readonly dirty: readonly string[];
}

/** 4 KiB write + fsync, `samples` times, in a folder on the disk the servers use. */
export function probeFsync(dir = tmpdir(), samples = 200): FsyncProbe {
  const d = mkdtempSync(join(dir, "fsync-probe-"));
  const file = join(d, "probe");
  const fd = openSync(file, "w");
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      writeSync(fd, block, 0, block.length, (i % 64) * 4096);
      const t = performance.now();
      if (i % 2 === 0) fsyncSync(fd);
      else fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(d, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { samples, p50Ms: r(at(0.5)), p99Ms: r(at(0.99)), maxMs: r(at(1)), perSecond: Math.round(1000 / Math.max(at(0.5), 0.001)) };
}

function wrkVersion(): string | null {
  try {
    const out = execFileSync("wrk", ["-v"], { stdio: ["ignore", "pipe", "pipe"] }).toString();
    return out.split("\n")[0]?.trim() ?? "wrk";
  } catch (error) {
    // `wrk -v` exits 1 after printing its version.
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    const out = `${e.stdout?.toString() ?? ""}${e.stderr?.toString() ?? ""}`;
    return /^wrk /.test(out) ? (out.split("\n")[0]?.trim() ?? "wrk") : null;
  }
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cores: c.length,
    cpuModel: c[0]?.model.trim() ?? "unknown",
    kernel: `${osType()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    wrk: wrkVersion(),
    fsync: probeFsync(),
    fsyncDir: tmpdir(),
  };
}

export function runInfo(): RunInfo {
  const git = (...args: string[]): string => {
    try {
      return execFileSync("git", args, { cwd: REPO_DIR, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    } catch {
      return "";
    }
  };
  const dirty = git("status", "--porcelain", "--", "src", "bin", "scripts").split("\n").filter((l) => l.trim() !== "");
  return { date: new Date().toISOString(), commit: git("rev-parse", "--short", "HEAD") || "unknown", dirty };
}
