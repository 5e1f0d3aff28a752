// `calyx run` and `calyx dev`: open the data folder, load the project, serve
// HTTP; on SIGINT/SIGTERM stop accepting, finish in-flight work, commit, close.
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { ProjectError } from "../host/errors.js";
import { DevWatcher } from "../host/dev-watcher.js";
import { createLogger, type LogLevel } from "../host/logger.js";
import type { Runtime } from "../host/runtime.js";
import { bootWorkers, discardPrebooted, WORKER_HEAP_MB_DEFAULT, workersAtStart } from "../host/worker-start.js";
import type { Durability } from "../storage/store.js";
import type { UwsServer } from "../http/uws-server.js";
import type { NodeHttpServer } from "../http/node-server.js";
import { lockDataDir } from "./data-lock.js";
import { CliError } from "./serve-errors.js";
import type { Service } from "../http/service.js";
import { VERSION } from "./version.js";
import { startupTrace } from "./startup-trace.js";
import { describeCodeCache } from "./code-cache.js";

export interface ServeOptions {
  readonly dir: string;
  readonly mode: "run" | "dev";
  readonly port: number;
  readonly host: string;
  readonly data: string | undefined;
  readonly workers: number | undefined;
  readonly durability: Durability;
  readonly bodyLimit: number;
  readonly handlerTimeout: number;
  readonly logLevel: LogLevel;
  readonly logFormat: "json" | "pretty" | undefined;
  /** "uws" (default) or "node": node:http, for platforms without a uWS build (no WebSocket, no streaming). */
  readonly transport: "uws" | "node";
  /** MiB of HTTP list-query answers to keep (0: off; default QUERY_CACHE_DEFAULT_MB). */
  readonly queryCacheMb?: number;
  /** MiB of replies of pure commands to keep (0: off; default REPLY_CACHE_DEFAULT_MB). */
  readonly replyCacheMb?: number;
}

export { CliError };

const SHUTDOWN_MS = 10_000;

export function checkProjectDir(dir: string): string {
  const projectDir = resolve(dir);
  if (!existsSync(projectDir)) throw new CliError(`project folder not found: ${projectDir}`);
  if (!statSync(projectDir).isDirectory()) throw new CliError(`not a folder: ${projectDir}`);
  const src = join(projectDir, "src");
  if (!existsSync(src) || !statSync(src).isDirectory()) {
    throw new CliError(`no src/ folder in ${projectDir}: a Calyx project keeps its components under src/ (create one with: calyx new <dir>)`);
  }
  return projectDir;
}

export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
    const probe = join(dataDir, `.write-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (error) {
    throw new CliError(`data folder not writable: ${dataDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose another with --data`);
  }
}

export async function serve(options: ServeOptions): Promise<void> {
  const projectDir = checkProjectDir(options.dir);
  const dataDir = resolve(options.data ?? join(projectDir, ".calyx"));
  prepareDataDir(dataDir);
  const unlock = lockDataDir(dataDir);
  process.on("exit", unlock);
  const log = createLogger({ format: options.logFormat ?? (options.mode === "dev" ? "pretty" : "json"), level: options.logLevel });
  const started = performance.now();
  const workers = options.workers ?? availableParallelism();
  // Start-up: the first worker threads boot (≈ 50 ms of CPU each) while this
  // thread loads the runtime (lmdb-js, uWS) and opens the data folder. The
  // entry point has usually started them already (src/host/worker-start.ts);
  // the others start once the server listens.
  const atStart = workersAtStart(workers);
  bootWorkers(atStart, WORKER_HEAP_MB_DEFAULT);
  const [{ Runtime, RUNTIME_DEFAULTS }, { attachLive }, { loadUws, UwsServer, UwsUnavailableError }] = await Promise.all([
    import("../host/runtime.js"), import("../http/ws-setup.js"), import("../http/uws-server.js"),
  ]);
  // uWS's native loads while the workers boot, not after them; and a machine
  // without a uWS build learns it before anything is opened.
  if (options.transport !== "node") {
    try {
      loadUws();
    } catch (error) {
      discardPrebooted();
      if (error instanceof UwsUnavailableError) throw new CliError(`${error.message}; run with --transport node to serve over node:http instead (no live queries)`);
      throw error;
    }
  }
  startupTrace("runtime loaded");
  let runtime: Runtime;
  try {
    runtime = await Runtime.start({
      ...RUNTIME_DEFAULTS,
      projectDir, dataDir, log,
      workers,
      workersAtStart: atStart,
      durability: options.durability,
      handlerTimeoutMs: options.handlerTimeout,
      ...(options.replyCacheMb !== undefined ? { replyCacheBytes: Math.floor(options.replyCacheMb * 2 ** 20) } : {}),
    });
  } catch (error) {
    if (error instanceof ProjectError) {
      const detail = error.problems.map((p) => (p.frame ? `${p.message}\n${p.frame}` : p.message)).join("\n\n");
      throw new CliError(error.problems.length === 1 ? (error.problems[0]?.message ?? error.message) : `${error.problems.length} problems in the project`, error.problems.some((p) => p.frame) || error.problems.length > 1 ? detail : undefined);
    }
    throw error;
  } finally {
    discardPrebooted();
  }
  startupTrace("project loaded");
  const service: Service = runtime;
  // Live queries and /_calyx/ws hang off the runtime: they survive hot reloads with it.
  const live = attachLive(runtime, {
    log, messageBytesMax: options.bodyLimit, serverName: `calyx/${VERSION}`, publicDir: join(projectDir, "public"), publicReread: options.mode === "dev",
    ...(options.queryCacheMb !== undefined ? { queryCacheBytes: Math.floor(options.queryCacheMb * 2 ** 20) } : {}),
  });
  const httpOptions = { host: options.host, port: options.port, bodyBytesMax: options.bodyLimit, log };
  let server: UwsServer | NodeHttpServer;
  if (options.transport === "node") {
    log("warn", "transport node:http (--transport node): every route, the operator endpoints and /_calyx/ws are served; query results are not streamed (no NDJSON/SSE), and throughput is several times lower than with uWebSockets.js");
    // Loaded only for this transport (the ws package is not needed otherwise).
    const [{ NodeHttpServer }, { attachNodeWebSocket }] = await Promise.all([import("../http/node-server.js"), import("../http/ws-node.js")]);
    server = new NodeHttpServer(service, httpOptions, (http) => attachNodeWebSocket(http, live.gateway, options.bodyLimit));
  } else {
    server = new UwsServer(service, { ...httpOptions, extend: live.extend, streamQuery: live.streamQuery });
  }
  try {
    await server.start();
  } catch (error) {
    await runtime.stop();
    throw new CliError((error as Error).message);
  }
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${server.port}`;
  const ms = Math.round(performance.now() - started);
  log("info", `serving ${projectDir} on ${url}`, { url, port: server.port, dataDir, workers: runtime.manifest.entities.length > 0 ? undefined : 0, startupMs: ms });
  // Watching starts before the listening line: a script that saves a file
  // the moment it reads that line must not race the watcher's set-up.
  let watcher: DevWatcher | undefined;
  if (options.mode === "dev") {
    runtime.onRoutesChanged((routes) => server.setRoutes(routes));
    watcher = new DevWatcher({
      projectDir, debounceMs: 50,
      reload: async () => {
        try {
          const { ms } = await runtime.reload();
          log("info", `reloaded in ${ms} ms`, { reloadMs: ms });
        } catch (error) {
          const problems = error instanceof ProjectError ? error.problems : [{ message: (error as Error).message, frame: undefined }];
          for (const p of problems) log("error", `reload failed, the previous version keeps serving: ${p.message}${p.frame ? "\n" + p.frame : ""}`);
        }
      },
    });
    watcher.start();
    log("info", `watching ${join(projectDir, "src")} for changes`);
  }

  // The one line a script can wait for, whatever the log format.
  process.stdout.write(`calyx: listening on ${url}\n`);
  startupTrace(`listening (${describeCodeCache()})`);
  // The other workers boot now, beside the first requests, and take their share of the entities once loaded.
  runtime.startRemainingWorkers().catch((error: unknown) => {
    log("error", `the workers left out of the start could not join: ${error instanceof Error ? error.message : String(error)}; serving on the others`);
  });
  if (options.mode === "dev") process.stdout.write(examples(url, runtime) + "\n");

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log("info", `${signal}: stopping (finishing in-flight requests, committing, closing the store)`);
    const force = setTimeout(() => {
      log("error", `shutdown took longer than ${SHUTDOWN_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_MS);
    force.unref();
    void (async () => {
      await watcher?.stop();
      live.close();
      await server.stop();
      await runtime.stop();
      log("info", "stopped");
      process.exit(0);
    })();
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

function examples(url: string, runtime: Runtime): string {
  const lines = ["", "Try:"];
  const routes = runtime.routes();
  const post = routes.find((r) => r.method === "POST");
  const get = routes.find((r) => r.method === "GET" && r.target.kind === "query");
  const fill = (path: string, value: string): string => path.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, value);
  if (post) lines.push(`  curl -XPOST ${url}${fill(post.path, "c1")} -H 'content-type: application/json' -d '{"name":"Ann","email":"ann@example.com"}'`);
  if (get) lines.push(`  curl ${url}${fill(get.path, "Ann")}`);
  return lines.join("\n");
}
