// CPU and memory of processes, read from /proc (Linux). CPU time covers every
// thread of the process, so a Calyx server's worker threads are included.
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { setPriority } from "node:os";

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of the times in /proc/<pid>/stat (100 on Linux/x86). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** user + system CPU time of a process in ms, or undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  return cpuMsOf(`/proc/${pid}/stat`);
}

/** CPU ms of several processes together (a server made of more than one), or undefined if one is gone. */
export function processesCpuMs(pids: readonly number[]): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms === undefined) return undefined;
    sum += ms;
  }
  return sum;
}

/**
 * user + system CPU time in ms of a process's first thread (the thread whose
 * id is the pid: Node's main thread, which runs the event loop, uWS and, in
 * Calyx, the committer), or undefined once it is gone.
 */
export function mainThreadCpuMs(pid: number): number | undefined {
  return cpuMsOf(`/proc/${pid}/task/${pid}/stat`);
}

function cpuMsOf(path: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicksPerSecond();
}

/** Resident set size in KiB (VmRSS), or undefined once the process is gone. */
export function processRssKb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Threads of a process (Calyx: main + workers + libuv/V8 helpers). */
export function processThreads(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const m = /Threads:\s+(\d+)/.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

/** Aggregate jiffies of all cores from /proc/stat (busy = total - idle - iowait). */
export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Fraction of all cores busy between two samples (0..1). */
export function machineBusy(a: MachineCpu, b: MachineCpu): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : 0;
}

/**
 * Nice value for every process the benchmark starts (servers, generators, wrk).
 * The machine is shared with other people's builds and tests; running the
 * benchmark at a higher priority (same for every server) keeps their work from
 * landing in our latencies. 0 = leave priorities alone.
 */
let benchNice = 0;

export function setBenchNice(n: number): void {
  benchNice = n;
}

export function getBenchNice(): number {
  return benchNice;
}

/** Command + args that run `command` at the benchmark's nice value. */
export function niced(command: string, args: readonly string[]): { command: string; args: string[] } {
  return benchNice === 0 ? { command, args: [...args] } : { command: "nice", args: ["-n", String(benchNice), command, ...args] };
}

/** Applies the benchmark's nice value to every thread of a running process. */
export function reniceThreads(pid: number): void {
  if (benchNice === 0) return;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), benchNice);
    } catch {
      /* not permitted, or the thread is gone */
    }
  }
}

/** Whether this process may raise priorities (root or CAP_SYS_NICE). */
export function canRaisePriority(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
