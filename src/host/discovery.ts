// Discovery: every component exported by a module under src/ is registered.
// Validation here names the file of each problem, so the user can fix it.
import { createHash } from "node:crypto";
import { COMPONENT } from "../api/components.js";
import type { EndpointManifest, EntityManifest, Manifest, ProjectProblem, ViewManifest } from "./messages.js";
import { displayPath } from "./project-files.js";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** A component definition as user code exported it (shape checked at run time). */
export interface LoadedComponent {
  readonly kind: "keyValueEntity" | "eventSourcedEntity" | "view" | "endpoint";
  readonly name: string;
  readonly file: string;
  readonly definition: Record<string, unknown>;
}

export interface Discovery {
  readonly manifest: Manifest;
  readonly entities: ReadonlyMap<string, LoadedComponent>;
  readonly views: readonly LoadedComponent[];
  readonly endpoints: ReadonlyMap<string, LoadedComponent>;
  readonly problems: readonly ProjectProblem[];
}

/** Parses "POST /customers/:id" into its method, path and parameter names; undefined if malformed. */
export function parseRoute(route: string): { method: string; path: string; params: string[] } | undefined {
  const m = /^([A-Z]+)\s+(\/\S*)$/.exec(route.trim());
  if (!m || !METHODS.has(m[1] ?? "")) return undefined;
  const path = m[2] ?? "/";
  const params = path.split("/").filter((s) => s.startsWith(":")).map((s) => s.slice(1));
  if (params.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) return undefined;
  return { method: m[1] ?? "", path, params };
}

/** Routes are equal when they differ only in parameter names. */
function routeShape(method: string, path: string): string {
  return `${method} ${path.split("/").map((s) => (s.startsWith(":") ? ":" : s)).join("/")}`;
}

export function discover(projectDir: string, modules: readonly { file: string; exports: Record<string, unknown> }[]): Discovery {
  const problems: ProjectProblem[] = [];
  const problem = (code: string, file: string | undefined, message: string): void => {
    problems.push({ code, file, message, line: undefined, column: undefined, frame: undefined });
  };
  const seen = new Set<unknown>();
  const found: LoadedComponent[] = [];
  for (const { file, exports } of modules) {
    for (const value of Object.values(exports)) {
      if (typeof value !== "object" || value === null || seen.has(value)) continue;
      const brand = (value as Record<symbol, unknown>)[COMPONENT];
      if (brand !== "keyValueEntity" && brand !== "eventSourcedEntity" && brand !== "view" && brand !== "endpoint") continue;
      seen.add(value);
      const definition = value as Record<string, unknown>;
      found.push({ kind: brand, name: String(definition["name"]), file: displayPath(projectDir, file), definition });
    }
  }

  const byName = new Map<string, LoadedComponent>();
  for (const c of found) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(c.name)) {
      problem("ERR_COMPONENT_NAME", c.file, `${c.file}: component name '${c.name}' must start with a letter and hold only letters, digits, '_' and '-'`);
      continue;
    }
    const other = byName.get(c.name);
    if (other) {
      problem("ERR_DUPLICATE_COMPONENT", c.file, `${c.file}: two components are named '${c.name}' (the other is in ${other.file}); names must be unique`);
      continue;
    }
    byName.set(c.name, c);
  }

  const routes = new Map<string, string>();
  const claimRoute = (route: string, owner: string, file: string): ReturnType<typeof parseRoute> => {
    const parsed = parseRoute(route);
    if (!parsed) {
      problem("ERR_ROUTE_SYNTAX", file, `${file}: ${owner}: route '${route}' is not of the form "METHOD /path/:param" (methods: ${[...METHODS].join(", ")})`);
      return undefined;
    }
    const shape = routeShape(parsed.method, parsed.path);
    const taken = routes.get(shape);
    if (taken) problem("ERR_DUPLICATE_ROUTE", file, `${file}: ${owner}: route '${route}' is already taken by ${taken}`);
    else routes.set(shape, owner);
    return parsed;
  };

  const entities = new Map<string, LoadedComponent>();
  const entityManifests: EntityManifest[] = [];
  const viewManifests: ViewManifest[] = [];
  const views: LoadedComponent[] = [];
  for (const c of byName.values()) {
    if (c.kind === "view" || c.kind === "endpoint") continue;
    entities.set(c.name, c);
    const commands = (c.definition["commands"] ?? {}) as Record<string, Record<string, unknown>>;
    const list: EntityManifest["commands"][number][] = [];
    for (const [name, cmd] of Object.entries(commands)) {
      if (typeof cmd["handler"] !== "function") {
        problem("ERR_COMMAND_HANDLER", c.file, `${c.file}: ${c.name}.${name} has no handler function`);
        continue;
      }
      const http = typeof cmd["http"] === "string" ? cmd["http"] : undefined;
      let key = typeof cmd["key"] === "string" ? cmd["key"] : undefined;
      if (http !== undefined) {
        const parsed = claimRoute(http, `${c.name}.${name}`, c.file);
        if (parsed) {
          if (key === undefined) key = parsed.params.includes("id") ? "id" : parsed.params.length === 1 ? parsed.params[0] : undefined;
          if (key === undefined || !parsed.params.includes(key)) {
            problem("ERR_ROUTE_KEY", c.file,
              `${c.file}: ${c.name}.${name}: route '${http}' has no entity key; add a ':id' segment, or name one of its parameters with key: "..."`);
          }
        }
      }
      const timeoutMs = typeof cmd["timeoutMs"] === "number" ? cmd["timeoutMs"] : undefined;
      if (cmd["pure"] !== undefined && typeof cmd["pure"] !== "boolean") {
        problem("ERR_COMMAND_PURE", c.file, `${c.file}: ${c.name}.${name}: pure must be true or false, got ${JSON.stringify(cmd["pure"])}`);
      }
      list.push({ name, http, key, timeoutMs, ...(cmd["pure"] === true ? { pure: true } : {}) });
    }
    entityManifests.push({ name: c.name, kind: c.kind as EntityManifest["kind"], file: c.file, commands: list });
  }
  for (const c of byName.values()) {
    if (c.kind !== "view") continue;
    const from = c.definition["from"] as { name?: unknown } | undefined;
    const fromName = typeof from?.name === "string" ? from.name : undefined;
    if (fromName === undefined || !entities.has(fromName)) {
      problem("ERR_VIEW_SOURCE", c.file, `${c.file}: view '${c.name}' is fed by '${fromName ?? "?"}', which is not an exported entity of this project`);
      continue;
    }
    const queries = (c.definition["queries"] ?? {}) as Record<string, Record<string, unknown>>;
    const qs: ViewManifest["queries"][number][] = [];
    for (const [name, q] of Object.entries(queries)) {
      const http = typeof q["http"] === "string" ? q["http"] : undefined;
      if (http !== undefined) claimRoute(http, `${c.name}.${name}`, c.file);
      const maxRows = typeof q["maxRows"] === "number" ? q["maxRows"] : undefined;
      const result = q["result"] === "single" || q["result"] === "list" ? q["result"] : undefined;
      if (q["result"] !== undefined && result === undefined) {
        problem("ERR_VIEW_QUERY", c.file, `${c.file}: ${c.name}.${name}: result must be "list" or "single", got ${JSON.stringify(q["result"])}`);
      }
      qs.push({ name, sql: String(q["sql"] ?? ""), http, maxRows, result });
    }
    views.push(c);
    const updater = c.definition["updater"];
    const source = entities.get(fromName);
    let updaterText = "";
    if (typeof updater === "function") updaterText = updater.toString();
    else if (typeof updater === "object" && updater !== null) {
      if (source?.kind !== "eventSourcedEntity") {
        problem("ERR_VIEW_UPDATER", c.file, `${c.file}: view '${c.name}': updaters per event type need an event-sourced entity; '${fromName}' is a key-value entity: use updater: (state) => row`);
        continue;
      }
      for (const [type, fn] of Object.entries(updater as Record<string, unknown>)) {
        if (typeof fn !== "function") problem("ERR_VIEW_UPDATER", c.file, `${c.file}: view '${c.name}': the updater for '${type}' is not a function`);
        else updaterText += `${type}:${fn.toString()}\n`;
      }
    }
    const updaterHash = updaterText ? createHash("sha256").update(updaterText).digest("hex").slice(0, 16) : "";
    const updaterKind = typeof updater === "object" && updater !== null ? "events" as const : "state" as const;
    viewManifests.push({ name: c.name, table: String(c.definition["table"] ?? c.name), file: c.file, from: fromName, queries: qs, updaterHash, updaterKind });
  }
  const endpoints = new Map<string, LoadedComponent>();
  const endpointManifests: EndpointManifest[] = [];
  for (const c of byName.values()) {
    if (c.kind !== "endpoint") continue;
    const routeTable = (c.definition["routes"] ?? {}) as Record<string, unknown>;
    const declared: string[] = [];
    for (const [route, handler] of Object.entries(routeTable)) {
      if (typeof handler !== "function") {
        problem("ERR_ENDPOINT_HANDLER", c.file, `${c.file}: endpoint '${c.name}': route '${route}' must map to a handler function`);
        continue;
      }
      if (claimRoute(route, `${c.name} '${route}'`, c.file)) declared.push(route);
    }
    endpoints.set(c.name, c);
    const timeoutMs = typeof c.definition["timeoutMs"] === "number" ? c.definition["timeoutMs"] : undefined;
    endpointManifests.push({ name: c.name, file: c.file, routes: declared, timeoutMs });
  }
  if (byName.size === 0 && problems.length === 0) {
    problem("ERR_NO_COMPONENTS", undefined, "no components found: export an entity, a view or an endpoint (keyValueEntity, eventSourcedEntity, view, endpoint from \"calyx\") from a module under src/");
  }
  return { manifest: { entities: entityManifests, views: viewManifests, endpoints: endpointManifests }, entities, views, endpoints, problems };
}

/**
 * Loads every component module and discovers the components: one list of
 * problems for modules that fail to load and for invalid definitions.
 */
export function loadAndDiscover(projectDir: string, files: readonly string[], load: (file: string) => Record<string, unknown>): Discovery {
  const problems: ProjectProblem[] = [];
  const modules: { file: string; exports: Record<string, unknown> }[] = [];
  for (const file of files) {
    try {
      modules.push({ file, exports: load(file) });
    } catch (error) {
      const problem = (error as { problem?: ProjectProblem }).problem;
      if (problem) problems.push(problem);
      else throw error;
    }
  }
  const found = discover(projectDir, modules);
  return { ...found, problems: [...problems, ...found.problems] };
}
