// The HTTP layer's fast path for kept replies (Service.cachedReplyJson): a
// GET of a command route that the service can answer at once is written in
// the request's own callback, byte for byte the service's JSON, on both
// transports; anything else takes the normal path through `command`.
import t from "tap";
import { NodeHttpServer } from "../../src/http/node-server.js";
import type { CallRequest, RouteSpec, Service } from "../../src/http/service.js";
import { UwsServer } from "../../src/http/uws-server.js";

const ROUTES: RouteSpec[] = [
  { method: "GET", path: "/things/:id", target: { kind: "command", component: "thing", command: "get", key: "id" } },
  { method: "POST", path: "/things/:id", target: { kind: "command", component: "thing", command: "set", key: "id" } },
];

function stub(): Service & { calls: string[]; asked: string[] } {
  const calls: string[] = [];
  const asked: string[] = [];
  const kept = new Map([["thing.get.k", '{"name":"Zoë","n":1}']]);
  return {
    calls, asked,
    routes: () => ROUTES,
    cachedReplyJson: (component, command, id) => {
      asked.push(`${component}.${command}.${id}`);
      return kept.get(`${component}.${command}.${id}`);
    },
    command: (component: string, command: string, id: string, body: unknown, _request: CallRequest) => {
      calls.push(`${component}.${command}.${id}`);
      return Promise.resolve({ slow: id, body: body ?? null });
    },
    endpoint: () => Promise.reject(new Error("no endpoints")),
    query: () => { throw new Error("no queries"); },
    viewStatus: () => [],
    metrics: () => "",
  };
}

const SERVERS = {
  uws: (s: Service) => new UwsServer(s, { host: "127.0.0.1", port: 0, bodyBytesMax: 1024, log: () => undefined }),
  node: (s: Service) => new NodeHttpServer(s, { host: "127.0.0.1", port: 0, bodyBytesMax: 1024, log: () => undefined }),
};

for (const [name, make] of Object.entries(SERVERS)) {
  t.test(`${name}: a kept reply is answered as is; the rest goes to the command`, async (t) => {
    const service = stub();
    const server = make(service);
    const { port } = await server.start();
    t.teardown(() => server.stop(100));
    const u = `http://127.0.0.1:${port}`;

    const hit = await fetch(`${u}/things/k`);
    t.equal(hit.status, 200);
    t.equal(hit.headers.get("content-type"), "application/json");
    t.equal(await hit.text(), '{"name":"Zoë","n":1}', "the service's JSON, byte for byte (UTF-8, its length counted in bytes)");
    t.same(service.calls, [], "the command did not run");

    const miss = await fetch(`${u}/things/m?x=1`);
    t.equal(miss.status, 200);
    t.equal(miss.headers.get("content-type"), "application/json");
    t.same(await miss.json(), { slow: "m", body: null });
    t.same(service.calls, ["thing.get.m"], "nothing kept: the command ran");

    const post = await fetch(`${u}/things/k`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    t.same(await post.json(), { slow: "k", body: {} }, "a POST never takes the fast path");
    t.same(service.calls, ["thing.get.m", "thing.set.k"]);
    t.same(service.asked, ["thing.get.k", "thing.get.m"], "only GETs of command routes are asked");

    t.equal((await fetch(`${u}/nothing`)).status, 404, "routing errors come first");
  });
}
