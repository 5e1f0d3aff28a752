// Cursor page tokens: the sort key of the last row of a page (its values for
// every ORDER BY term, then its pk), so the next page starts strictly after
// that row, wherever rows were inserted or deleted in between. Format:
// base64url( version(1) | query fingerprint(4) | encodeKey(values) ).
import { createHash } from "node:crypto";
import { decodeKey, encodeKey } from "../../storage/key-codec.js";
import type { KeyPart } from "../../storage/store.js";
import { QueryError } from "../errors.js";

const TOKEN_VERSION = 1;
const FINGERPRINT_BYTES = 4;

/** Identifies the query and its order: a token from another query (or an older order) is refused. */
export function queryFingerprint(parts: readonly string[]): Buffer {
  return createHash("sha256").update(parts.join("\u0000")).digest().subarray(0, FINGERPRINT_BYTES);
}

export function encodePageToken(fingerprint: Buffer, values: readonly KeyPart[]): string {
  return Buffer.concat([Buffer.from([TOKEN_VERSION]), fingerprint, encodeKey(values)]).toString("base64url");
}

/** The sort key in a token, or null for an absent/empty token (first page). */
export function decodePageToken(token: unknown, fingerprint: Buffer, terms: number, param: string): KeyPart[] | null {
  if (token === undefined || token === null || token === "") return null;
  const invalid = (why: string): QueryError =>
    new QueryError("ERR_PAGE_TOKEN_INVALID", `page token :${param} is not valid for this query (${why}); start again without a token`, param);
  if (typeof token !== "string") throw invalid("not a string");
  const bytes = Buffer.from(token, "base64url");
  if (bytes.length < 1 + FINGERPRINT_BYTES || bytes[0] !== TOKEN_VERSION) throw invalid("malformed");
  if (!bytes.subarray(1, 1 + FINGERPRINT_BYTES).equals(fingerprint)) throw invalid("it was made by another query or an older version of this one");
  let values: KeyPart[];
  try {
    values = decodeKey(bytes.subarray(1 + FINGERPRINT_BYTES));
  } catch {
    throw invalid("malformed");
  }
  if (values.length !== terms || typeof values[terms - 1] !== "string") throw invalid("malformed");
  return values;
}
