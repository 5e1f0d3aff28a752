// The ceiling: raw uWebSockets.js answering every request with a small JSON
// document, reading POST bodies to the end first. Nothing a real service can
// do is faster on this machine with this HTTP stack.
//
//   node --import tsx bench/baselines/uws-hello.ts [--port 0] [--host 127.0.0.1]
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import type * as UWS from "uWebSockets.js";

const require = createRequire(import.meta.url);
const uws = require("uWebSockets.js") as typeof UWS;

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } } });
const LISTEN_EXCLUSIVE_PORT = 1; // uWS ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT (not in this build's typings)
const BODY = '{"name":"Ann","email":"ann@example.com"}';

const app = uws.App();
app.any("/*", (res, req) => {
  const method = req.getMethod();
  if (method === "get" || method === "head" || method === "delete") {
    res.writeHeader("content-type", "application/json").end(BODY);
    return;
  }
  let aborted = false;
  res.onAborted(() => { aborted = true; });
  res.onData((_chunk, isLast) => {
    if (isLast && !aborted) res.cork(() => res.writeHeader("content-type", "application/json").end(BODY));
  });
});

const listen = app.listen.bind(app) as unknown as (h: string, p: number, o: number, cb: (s: UWS.us_listen_socket | false) => void) => void;
listen(values.host, Number(values.port), LISTEN_EXCLUSIVE_PORT, (socket) => {
  if (!socket) {
    process.stderr.write(`uws-hello: cannot listen on ${values.host}:${values.port}\n`);
    process.exit(1);
  }
  process.stdout.write(`uws-hello: listening on http://${values.host}:${uws.us_socket_local_port(socket)}\n`);
  const stop = (): void => {
    uws.us_listen_socket_close(socket);
    (app as { close?: () => void }).close?.();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
});
