// `calyx build <project> -o <file>`: one file that runs a project. Copies the
// calyx executable and appends the project's files (project-archive.ts), so
// it needs nothing but the executable it runs as — no Node, no compiler, no
// network. The project's TypeScript is checked to compile first, so a syntax
// error shows up here rather than on the device.
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { transform } from "sucrase";
import { tempNameFor } from "./atomic-file.js";
import { NATIVES } from "./build-info.js";
import { findEmbeddedProject } from "./embedded-project.js";
import { SeaError } from "./errors.js";
import { encodeTrailer, PROJECT_BYTES_MAX, PROJECT_ENTRIES, PROJECT_FILES_MAX, type ArchiveHeader } from "./project-archive.js";

export interface BuildOptions {
  readonly projectDir: string;
  readonly output: string;
  /** The calyx executable to copy; default: the running one (inside the executable). */
  readonly base?: string | undefined;
}

export interface BuildResult {
  readonly output: string;
  readonly files: number;
  readonly projectBytes: number;
  readonly outputBytes: number;
}

export function buildExecutable(options: BuildOptions): BuildResult {
  const projectDir = resolve(options.projectDir);
  const output = resolve(options.output);
  if (!existsSync(join(projectDir, "src")) || !statSync(join(projectDir, "src")).isDirectory()) {
    throw new SeaError("ERR_BUILD", `no src/ folder in ${projectDir}: a Calyx project keeps its components under src/`);
  }
  const base = resolve(options.base ?? defaultBase());
  if (base === output) throw new SeaError("ERR_BUILD", `the output ${output} is the executable being copied; choose another -o`);

  const files = collectFiles(projectDir);
  checkCompiles(projectDir, files);
  const header: ArchiveHeader = { format: 1, name: basename(projectDir), files: files.map((f) => ({ path: f.path, bytes: f.data.length })) };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const hash = createHash("sha256").update(headerBytes);
  for (const f of files) hash.update(f.data);
  const projectBytes = headerBytes.length + files.reduce((n, f) => n + f.data.length, 0);

  // A base that is itself a built service contributes only its calyx part.
  const baseBytes = findEmbeddedProject(base)?.payloadOffset ?? statSync(base).size;
  const temp = tempNameFor(output);
  try {
    copyFileSync(base, temp);
    truncateSync(temp, baseBytes);
    appendFileSync(temp, headerBytes);
    for (const f of files) appendFileSync(temp, f.data);
    appendFileSync(temp, encodeTrailer({ payloadBytes: projectBytes, headerBytes: headerBytes.length, sha256: hash.digest("hex") }));
    chmodSync(temp, 0o755);
    renameSync(temp, output);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new SeaError("ERR_BUILD", `cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return { output, files: files.length, projectBytes, outputBytes: statSync(output).size };
}

function defaultBase(): string {
  // Inside the executable (natives embedded) this process is calyx itself.
  // (Not node:sea's isSea(): importable from source on Node < 20.12 too.)
  if (Object.keys(NATIVES).length > 0) return process.execPath;
  throw new SeaError("ERR_BUILD", "calyx build copies the calyx executable: run it from dist/calyx (build that with `node scripts/package.mjs`), or pass --base <calyx executable>");
}

interface ProjectFile {
  readonly path: string;
  readonly data: Buffer;
}

function collectFiles(projectDir: string): ProjectFile[] {
  const files: ProjectFile[] = [];
  let bytes = 0;
  const visit = (abs: string): void => {
    const st = lstatSync(abs);
    // Symlinks (node_modules/.bin, linked workspaces) would point outside the archive.
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) {
        if (name === ".calyx" || name === ".git" || name === ".bin" || name === ".cache") continue;
        visit(join(abs, name));
      }
      return;
    }
    if (!st.isFile()) return;
    bytes += st.size;
    if (bytes > PROJECT_BYTES_MAX || files.length >= PROJECT_FILES_MAX) {
      throw new SeaError("ERR_BUILD", `the project is too large to embed (over ${PROJECT_BYTES_MAX} bytes or ${PROJECT_FILES_MAX} files in ${PROJECT_ENTRIES.join(", ")})`);
    }
    files.push({ path: relative(projectDir, abs).split(sep).join("/"), data: readFileSync(abs) });
  };
  for (const entry of PROJECT_ENTRIES) {
    const abs = join(projectDir, entry);
    if (existsSync(abs)) visit(abs);
  }
  return files;
}

function checkCompiles(projectDir: string, files: readonly ProjectFile[]): void {
  const problems: string[] = [];
  for (const f of files) {
    if (!f.path.startsWith("src/") || !/\.(ts|mts|tsx|js|mjs)$/.test(f.path)) continue;
    try {
      transform(f.data.toString("utf8"), { transforms: ["typescript", "imports"], filePath: join(projectDir, f.path), production: true });
    } catch (error) {
      problems.push(`${f.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) throw new SeaError("ERR_BUILD", `the project does not compile:\n${problems.join("\n")}`);
}
