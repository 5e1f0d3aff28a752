// Drives the real `calyx` command as a child process: the bundle under node by
// default, or the single executable when CALYX_BIN is set (CALYX_BIN=dist/calyx).
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export function calyxCommand(): { file: string; prefix: string[] } {
  const bin = process.env["CALYX_BIN"];
  if (bin) return { file: resolve(ROOT, bin), prefix: [] };
  return { file: process.execPath, prefix: [join(ROOT, "build/calyx.cjs")] };
}

export interface Running {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** Starts `calyx <args>` and waits (with a deadline) for its "listening on" line. */
export async function startCalyx(args: string[], deadlineMs = 20_000, env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const { file, prefix } = calyxCommand();
  const proc = spawn(file, [...prefix, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => { out += d.toString(); });
  proc.stderr.on("data", (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | string>((res) => proc.on("exit", (code, signal) => res(code ?? signal ?? -1)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`calyx did not start within ${deadlineMs} ms:\n${out}`)), deadlineMs);
    const check = (): void => {
      const m = /calyx: listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) { clearTimeout(timer); res(m[1]); }
    };
    proc.stdout.on("data", check);
    void exited.then((code) => { clearTimeout(timer); rej(new Error(`calyx exited (${code}) before listening:\n${out}`)); });
  });
  return { url, proc, output: () => out, exited };
}

/** Runs `calyx <args>` to completion. */
export function runCalyx(args: string[], deadlineMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const { file, prefix } = calyxCommand();
  const proc = spawn(file, [...prefix, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
  proc.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { proc.kill("SIGKILL"); rej(new Error(`calyx ${args.join(" ")} did not finish within ${deadlineMs} ms:\n${stdout}${stderr}`)); }, deadlineMs);
    proc.on("exit", (code, signal) => { clearTimeout(timer); res({ code: code ?? signal ?? -1, stdout, stderr }); });
  });
}

/** Copies an example or fixture project into `dir` and returns its path. */
export function copyProject(name: string, dir: string): string {
  const from = name.startsWith("fixtures/") ? join(ROOT, "test/e2e", name) : join(ROOT, "examples", name);
  const to = join(dir, "project");
  cpSync(from, to, { recursive: true, filter: (src) => !src.includes(".calyx") && !src.includes("node_modules") });
  return to;
}

export async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`not JSON (status ${res.status}): ${text}`);
  }
}

/** Every file under `dir` (full paths, sorted); none when it does not exist. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

/** Waits (with a deadline) for `count` lines of the server's output matching `re`: trace lines come from three threads, in their own time. */
export function outputLines(server: Running, re: RegExp, count = 1, deadlineMs = 20_000): Promise<string[]> {
  const found = (): string[] => server.output().match(new RegExp(re.source, "gm")) ?? [];
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (found().length < count) return;
      done();
      resolve(found());
    };
    const timer = setTimeout(() => { done(); reject(new Error(`no ${count} × ${re} within ${deadlineMs} ms:\n${server.output()}`)); }, deadlineMs);
    // After the helper's own listener has appended the chunk to output().
    const later = (): void => { setImmediate(check); };
    const done = (): void => {
      clearTimeout(timer);
      server.proc.stdout?.off("data", later);
      server.proc.stderr?.off("data", later);
    };
    server.proc.stdout?.on("data", later);
    server.proc.stderr?.on("data", later);
    check();
  });
}
