// The format of a project embedded by `calyx build`: the project's files are
// appended to a copy of the calyx executable, followed by a fixed-size trailer.
// Appending leaves the ELF image (and the SEA blob inside it) untouched, so the
// result runs like calyx itself, and `calyx build` needs no Node, no postject
// and no network — only the executable it runs as.
//
//   [calyx executable][header JSON][file contents…][trailer, TRAILER_BYTES]
//   trailer = MAGIC (16 B) | payload bytes (u64 LE) | header bytes (u64 LE) | SHA-256 of payload (32 B)
//   payload = header JSON + file contents, in header order

export const MAGIC = Buffer.from("CALYX-PROJECT-01", "latin1");
export const TRAILER_BYTES = 16 + 8 + 8 + 32;

/** Largest project a build embeds (all files together). */
export const PROJECT_BYTES_MAX = 512 * 1024 * 1024;
/** Most files a build embeds. */
export const PROJECT_FILES_MAX = 100_000;
/** What of a project folder is embedded; anything else (data, .git, dist) is not. */
export const PROJECT_ENTRIES = ["src", "package.json", "tsconfig.json", "node_modules"] as const;

export interface ArchiveHeader {
  readonly format: 1;
  /** The project folder's name when it was built, for log lines. */
  readonly name: string;
  readonly files: readonly ArchiveFile[];
}

export interface ArchiveFile {
  /** Relative, '/'-separated, never '..'. */
  readonly path: string;
  readonly bytes: number;
}

export interface Trailer {
  readonly payloadBytes: number;
  readonly headerBytes: number;
  readonly sha256: string;
}

export function encodeTrailer(t: Trailer): Buffer {
  const out = Buffer.alloc(TRAILER_BYTES);
  MAGIC.copy(out, 0);
  out.writeBigUInt64LE(BigInt(t.payloadBytes), 16);
  out.writeBigUInt64LE(BigInt(t.headerBytes), 24);
  Buffer.from(t.sha256, "hex").copy(out, 32);
  return out;
}

/** The trailer at the end of `tail`, or undefined when there is no embedded project. */
export function decodeTrailer(tail: Buffer): Trailer | undefined {
  if (tail.length !== TRAILER_BYTES || !tail.subarray(0, 16).equals(MAGIC)) return undefined;
  return {
    payloadBytes: Number(tail.readBigUInt64LE(16)),
    headerBytes: Number(tail.readBigUInt64LE(24)),
    sha256: tail.subarray(32).toString("hex"),
  };
}

/** Checks a header read back from disk; throws a plain Error on nonsense. */
export function parseHeader(text: string, payloadBytes: number): ArchiveHeader {
  const header = JSON.parse(text) as ArchiveHeader;
  if (header.format !== 1 || !Array.isArray(header.files)) throw new Error(`unknown embedded project format ${String(header.format)}`);
  let total = Buffer.byteLength(text);
  for (const f of header.files) {
    if (typeof f.path !== "string" || !isSafeRelative(f.path) || !Number.isSafeInteger(f.bytes) || f.bytes < 0) throw new Error(`bad file entry ${JSON.stringify(f)}`);
    total += f.bytes;
  }
  if (total !== payloadBytes) throw new Error(`header lists ${total} bytes, payload has ${payloadBytes}`);
  return header;
}

export function isSafeRelative(path: string): boolean {
  return path.length > 0 && !path.startsWith("/") && !path.includes("\\") && path.split("/").every((p) => p !== "" && p !== "." && p !== "..");
}
