// Serves a project's public/ folder (static files: a page, its scripts) at
// the root of the site: public/index.html at / and /index.html, public/a/b.js
// at /a/b.js. Files are found when the server starts; in dev mode their
// contents are read again on every request (edits show on reload), otherwise
// once. A file's route takes precedence over a project route with the same
// path. GET only; nothing outside the folder is reachable.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import type * as UWS from "uWebSockets.js";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

/** Files served from public/, at most (a guard against serving a huge tree by mistake). */
export const PUBLIC_FILES_MAX = 1_000;

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (out.length < PUBLIC_FILES_MAX) out.push(path);
  }
}

/** Registers the files of `dir` (if it exists); returns the URL paths served. */
export function registerPublicFiles(app: UWS.TemplatedApp, dir: string, options: { reread: boolean }): string[] {
  let files: string[] = [];
  try {
    if (!statSync(dir).isDirectory()) return [];
    walk(dir, files);
  } catch {
    return [];
  }
  files = files.filter((f) => !relative(dir, f).startsWith(".."));
  const served: string[] = [];
  for (const file of files) {
    const url = "/" + relative(dir, file).split(sep).map(encodeURIComponent).join("/");
    const type = TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
    let cached: Buffer | undefined = options.reread ? undefined : readFileSync(file);
    const handler = (res: UWS.HttpResponse): void => {
      let body: Buffer;
      try {
        body = cached ?? readFileSync(file);
      } catch {
        res.writeStatus("404 Not Found").writeHeader("content-type", "text/plain").end("not found");
        return;
      }
      if (!options.reread) cached = body;
      res.writeHeader("content-type", type).writeHeader("cache-control", options.reread ? "no-store" : "no-cache").end(body);
    };
    for (const path of url.endsWith("/index.html") ? [url, url.slice(0, -"index.html".length)] : [url]) {
      app.get(path, handler);
      served.push(path);
    }
  }
  return served;
}
