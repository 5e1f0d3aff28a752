// The customer service on Restate, for the benchmark's `restate` target: a
// virtual object (create = exclusive handler storing the state; get = shared
// handler reading it), served by this process through the Node SDK, and a
// single-node restate-server started as this process's child.
//
//   node bench/baselines/restate/customer-object.mjs --data DIR
//
// Needs `npm run bench:restate-install` first (installs the pinned Restate
// packages into bench/baselines/restate/node_modules, apart from the project).
// Prints "restate-server pid N" and then "listening on http://127.0.0.1:PORT"
// (the ingress) once a create and a get have gone through; SIGINT/SIGTERM stop
// the server, then this process.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer as createTcpServer } from "node:net";
import { createServer as createHttp2Server } from "node:http2";
import { join } from "node:path";

// @restatedev/restate-sdk 1.17 calls Promise.withResolvers, which Node 20 lacks.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  };
}
// The SDK logs two INFO lines per call by default: a benchmark measures the service, not its logging.
process.env.RESTATE_LOGGING ??= "WARN";
const restate = await import("@restatedev/restate-sdk");

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

const customer = restate.object({
  name: "customer",
  handlers: {
    create: async (ctx, c) => {
      ctx.set("state", { name: c.name, email: c.email });
      return "done";
    },
    get: restate.handlers.object.shared(async (ctx) => {
      const s = await ctx.get("state");
      if (s === null) throw new restate.TerminalError("not found", { errorCode: 404 });
      return s;
    }),
  },
});

function fail(message) {
  process.stderr.write(`restate baseline: ${message}\n`);
  process.exit(1);
}

const dataIndex = process.argv.indexOf("--data");
const dataDir = dataIndex > 0 ? process.argv[dataIndex + 1] : undefined;
if (!dataDir) fail("usage: customer-object.mjs --data DIR");

const binary = (() => {
  const pkg = `@restatedev/restate-server-${process.platform}-${process.arch}`;
  try {
    return join(createRequire(import.meta.url).resolve(`${pkg}/package.json`), "..", "bin", "restate-server");
  } catch {
    return fail(`${pkg} is not installed (npm run bench:restate-install; Restate ships linux and darwin, x64 and arm64)`);
  }
})();

/** A port nobody listens on now (Restate's ports cannot be 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The SDK endpoint (HTTP/2, as restate.endpoint().listen() would serve it, on a port we choose).
const sdk = createHttp2Server(restate.endpoint().bind(customer).http2Handler());
await new Promise((resolve) => sdk.listen(0, "127.0.0.1", resolve));
const sdkPort = sdk.address().port;
const [ingress, admin, node] = [await freePort(), await freePort(), await freePort()];

const server = spawn(binary, [], {
  stdio: ["ignore", "inherit", "inherit"],
  env: {
    ...process.env,
    RESTATE_BASE_DIR: dataDir,
    RESTATE_DISABLE_TELEMETRY: "true",
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${node}`,
    RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${node}`,
    RESTATE_LOG_FILTER: "warn",
  },
});
let stopping = false;
server.once("exit", (code, signal) => {
  if (!stopping) fail(`restate-server exited (${signal ?? `code ${code}`})`);
});
server.once("error", (error) => fail(`cannot start ${binary}: ${error.message}`));

async function stop() {
  if (stopping) return;
  stopping = true;
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  sdk.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

/** Retries fn until it returns true or the start-up deadline passes. */
async function until(what, fn) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = "";
  for (;;) {
    try {
      if (await fn()) return;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() > deadline) fail(`${what} did not happen within ${START_TIMEOUT_MS} ms ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await until("the admin API answering", async () => (await fetch(`http://127.0.0.1:${admin}/health`)).ok);
await until("registering the SDK endpoint", async () => {
  const r = await fetch(`http://127.0.0.1:${admin}/deployments`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ uri: `http://127.0.0.1:${sdkPort}`, force: true }),
  });
  await r.arrayBuffer();
  return r.ok;
});
// The ingress learns of the deployment a moment later: wait for a call to go through.
await until("a first call through the ingress", async () => {
  const r = await fetch(`http://127.0.0.1:${ingress}/customer/__ready/create`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "ready", email: "ready@example.com" }),
  });
  await r.arrayBuffer();
  return r.ok;
});
process.stdout.write(`restate-server pid ${server.pid}\nlistening on http://127.0.0.1:${ingress}\n`);
