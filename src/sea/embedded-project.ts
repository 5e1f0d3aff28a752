// At start-up: does this executable carry a project (see project-archive.ts)?
// If so, unpack it once into the cache folder (a temp folder renamed into
// place, so concurrent starts are safe) and serve it from there: the runtime
// loads a real folder and needs no in-memory module map.
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempNameFor } from "./atomic-file.js";
import { prepareCacheDir, versionCacheDir } from "./cache-dir.js";
import { SeaError } from "./errors.js";
import { decodeTrailer, parseHeader, TRAILER_BYTES, type Trailer } from "./project-archive.js";

export interface EmbeddedProject {
  /** Offset in the executable where the payload starts (= size of calyx itself). */
  readonly payloadOffset: number;
  readonly trailer: Trailer;
}

/** Reads the trailer of `exe` (two small reads); undefined for a plain calyx. */
export function findEmbeddedProject(exe: string): EmbeddedProject | undefined {
  const fd = openSync(exe, "r");
  try {
    const size = fstatSync(fd).size;
    if (size < TRAILER_BYTES) return undefined;
    const tail = Buffer.alloc(TRAILER_BYTES);
    readFully(fd, tail, size - TRAILER_BYTES);
    const trailer = decodeTrailer(tail);
    if (trailer === undefined) return undefined;
    const payloadOffset = size - TRAILER_BYTES - trailer.payloadBytes;
    if (payloadOffset < 0) throw new SeaError("ERR_EMBEDDED_PROJECT", `${exe}: the embedded project is truncated; rebuild it with calyx build`);
    return { payloadOffset, trailer };
  } finally {
    closeSync(fd);
  }
}

/** The folder holding the unpacked project; unpacks it on first use. */
export function unpackEmbeddedProject(exe: string, embedded: EmbeddedProject): string {
  const root = join(versionCacheDir(), "projects");
  const target = join(root, embedded.trailer.sha256.slice(0, 16));
  // Folders are renamed into place whole, so an existing one is complete.
  if (existsSync(target)) return target;
  prepareCacheDir(root);
  const payload = Buffer.alloc(embedded.trailer.payloadBytes);
  const fd = openSync(exe, "r");
  try {
    readFully(fd, payload, embedded.payloadOffset);
  } finally {
    closeSync(fd);
  }
  const sha256 = createHash("sha256").update(payload).digest("hex");
  if (sha256 !== embedded.trailer.sha256) throw new SeaError("ERR_EMBEDDED_PROJECT", `${exe}: the embedded project is damaged (checksum mismatch); rebuild it with calyx build`);
  let header;
  try {
    header = parseHeader(payload.subarray(0, embedded.trailer.headerBytes).toString("utf8"), payload.length);
  } catch (error) {
    throw new SeaError("ERR_EMBEDDED_PROJECT", `${exe}: the embedded project is damaged (${(error as Error).message}); rebuild it with calyx build`, { cause: error });
  }
  const temp = tempNameFor(target);
  try {
    let at = embedded.trailer.headerBytes;
    for (const file of header.files) {
      const path = join(temp, ...file.path.split("/"));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, payload.subarray(at, at + file.bytes), { mode: 0o644 });
      at += file.bytes;
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    // Another start unpacked the same project first: use its copy.
    if (existsSync(target)) return target;
    throw new SeaError("ERR_CACHE_NOT_WRITABLE", `cannot unpack the embedded project into ${root} (${(error as NodeJS.ErrnoException).code ?? String(error)}); set CALYX_CACHE_DIR to a writable folder`, { cause: error });
  }
  return target;
}

function readFully(fd: number, into: Buffer, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new SeaError("ERR_EMBEDDED_PROJECT", "the executable ended early while reading its embedded project");
    done += n;
  }
}
