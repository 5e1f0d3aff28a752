import t from "tap";
import { keyValueEntity, view } from "../../src/api/index.js";
import { discover, parseRoute } from "../../src/host/discovery.js";

const customer = keyValueEntity({
  name: "customer",
  initialState: () => null,
  commands: {
    create: { http: "POST /customers/:id", handler: (_s, _c, ctx) => ctx.reply("done") },
    rename: { http: "PUT /orgs/:org/customers/:cid", key: "cid", handler: (_s, _c, ctx) => ctx.reply("ok") },
    internal: { handler: (_s, _c, ctx) => ctx.reply(1) },
  },
});
const byName = view({ name: "customers", from: customer, queries: { byName: { http: "GET /customers/by-name/:name", sql: "SELECT * FROM customers WHERE name = :name" } } });

t.test("parseRoute", async (t) => {
  t.same(parseRoute("POST /customers/:id"), { method: "POST", path: "/customers/:id", params: ["id"] });
  t.equal(parseRoute("FETCH /x"), undefined);
  t.equal(parseRoute("GET x"), undefined);
  t.equal(parseRoute("GET /x/:1bad"), undefined);
});

t.test("components are found among exports, once each, with their routes and keys", async (t) => {
  const d = discover("/p", [
    { file: "/p/src/customer.ts", exports: { customer, helper: 1 } },
    { file: "/p/src/view.ts", exports: { byName, customer } },
  ]);
  t.same(d.problems, []);
  t.same(d.manifest.entities.map((e) => e.name), ["customer"]);
  t.same(d.manifest.entities[0]?.commands.map((c) => [c.name, c.http, c.key]), [
    ["create", "POST /customers/:id", "id"], ["rename", "PUT /orgs/:org/customers/:cid", "cid"], ["internal", undefined, undefined],
  ]);
  t.same(d.manifest.views[0], { name: "customers", table: "customers", file: "src/view.ts", from: "customer",
    queries: [{ name: "byName", sql: "SELECT * FROM customers WHERE name = :name", http: "GET /customers/by-name/:name", maxRows: undefined, result: undefined }],
    updaterHash: "", updaterKind: "state" });
});

t.test("each problem names its file", async (t) => {
  const twin = keyValueEntity({ name: "customer", initialState: () => 0, commands: {} });
  const clash = keyValueEntity({ name: "other", initialState: () => 0, commands: {
    a: { http: "POST /customers/:key", handler: (_s, _c, ctx) => ctx.reply(1) },
    b: { http: "POST /orgs/:org/x/:y", handler: (_s, _c, ctx) => ctx.reply(1) },
  } });
  const ghost = keyValueEntity({ name: "ghost", initialState: () => 0, commands: {} });
  const orphan = view({ name: "orphan", from: ghost, queries: {} });
  const d = discover("/p", [
    { file: "/p/src/a.ts", exports: { customer } },
    { file: "/p/src/b.ts", exports: { twin, clash, orphan } },
  ]);
  const codes = d.problems.map((p) => p.code).sort();
  t.same(codes, ["ERR_DUPLICATE_COMPONENT", "ERR_DUPLICATE_ROUTE", "ERR_ROUTE_KEY", "ERR_VIEW_SOURCE"]);
  for (const p of d.problems) t.match(p.message, /^src\/b\.ts: /);
});

t.test("no components at all is a problem", async (t) => {
  const d = discover("/p", [{ file: "/p/src/a.ts", exports: { x: 1 } }]);
  t.same(d.problems.map((p) => p.code), ["ERR_NO_COMPONENTS"]);
});

t.test("pure: true is carried to the manifest; anything but a boolean is a problem", async (t) => {
  const box = keyValueEntity({ name: "box", initialState: () => 0, commands: {
    get: { pure: true, handler: (s, _c, ctx) => ctx.reply(s) },
    set: { handler: (_s, c: number, ctx) => ctx.update(c).reply("ok") },
  } });
  const d = discover("/p", [{ file: "/p/src/box.ts", exports: { box } }]);
  t.same(d.problems, []);
  t.same(d.manifest.entities[0]?.commands.map((c) => [c.name, c.pure === true]), [["get", true], ["set", false]]);
  const bad = keyValueEntity({ name: "bad", initialState: () => 0, commands: {
    get: { pure: "yes" as unknown as boolean, handler: (s, _c, ctx) => ctx.reply(s) },
  } });
  const e = discover("/p", [{ file: "/p/src/bad.ts", exports: { bad } }]);
  t.same(e.problems.map((p) => p.code), ["ERR_COMMAND_PURE"]);
  t.match(e.problems[0]?.message, /src\/bad\.ts: bad\.get: pure must be true or false, got "yes"/);
});
