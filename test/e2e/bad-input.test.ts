// Bad input on the HTTP path: each case gets a precise JSON error and the
// stored data stays as it was.
import t from "tap";
import { copyProject, json, startCalyx } from "./helpers.js";

t.test("bad requests get clear errors and change nothing", async (t) => {
  const dir = t.testdir();
  const project = copyProject("fixtures/faulty", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--body-limit", "1024", "--workers", "2"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const u = server.url;
  const post = (path: string, body: string) => fetch(u + path, { method: "POST", headers: { "content-type": "application/json" }, body });
  const errorOf = async (res: Response) => ((await json(res)) as { error: { code: string; message: string; errorId?: string } }).error;

  t.equal((await post("/accounts/a1", JSON.stringify({ owner: "ann" }))).status, 200);
  const before = await json(await fetch(`${u}/accounts/a1`));

  await t.test("malformed JSON is a 400", async (t) => {
    const res = await post("/accounts/a1", "{not json");
    t.equal(res.status, 400);
    const e = await errorOf(res);
    t.equal(e.code, "ERR_BAD_JSON");
    t.match(e.message, /not valid JSON/);
  });
  await t.test("a field of the wrong type is the handler's 422", async (t) => {
    const res = await post("/accounts/a2", JSON.stringify({ owner: 7 }));
    t.equal(res.status, 422);
    t.equal((await errorOf(res)).message, "owner must be a string");
    t.equal((await fetch(`${u}/accounts/a2`)).status, 404);
  });
  await t.test("a body over --body-limit is a 413", async (t) => {
    const res = await post("/accounts/a3", JSON.stringify({ owner: "x".repeat(2000) }));
    t.equal(res.status, 413);
    t.equal((await errorOf(res)).code, "ERR_BODY_TOO_LARGE");
    t.equal((await fetch(`${u}/accounts/a3`)).status, 404);
  });
  await t.test("an unknown route is a 404", async (t) => {
    const res = await fetch(`${u}/nope/1`);
    t.equal(res.status, 404);
    t.equal((await errorOf(res)).code, "ERR_NOT_FOUND");
  });
  await t.test("a known path with the wrong method is a 405 with Allow", async (t) => {
    const res = await fetch(`${u}/accounts/a1`, { method: "DELETE" });
    t.equal(res.status, 405);
    t.match(res.headers.get("allow") ?? "", /GET/);
    t.equal((await errorOf(res)).code, "ERR_METHOD_NOT_ALLOWED");
  });
  await t.test("a handler that throws is a 500 with an error id, no internals, no state change", async (t) => {
    const res = await post("/accounts/a1/explode", "{}");
    t.equal(res.status, 500);
    const e = await errorOf(res);
    t.equal(e.code, "ERR_HANDLER_FAILED");
    t.match(e.errorId ?? "", /^[0-9a-f-]{36}$/);
    t.notMatch(JSON.stringify(e), /secret internal detail|at .*account\.ts/);
    t.match(server.output(), new RegExp(`${e.errorId ?? "none"}[\\s\\S]*secret internal detail|secret internal detail[\\s\\S]*${e.errorId ?? "none"}`));
    t.same(await json(await fetch(`${u}/accounts/a1`)), before);
  });
  await t.test("a handler that returns no effect is a 500 that says so in the log", async (t) => {
    const res = await post("/accounts/a1/not-an-effect", "{}");
    t.equal(res.status, 500);
    t.match(server.output(), /must return an effect/);
  });
  await t.test("a handler that never returns is a 504; its worker is replaced; others keep serving", async (t) => {
    const res = await post("/accounts/a1/spin", "{}");
    t.equal(res.status, 504);
    t.equal((await errorOf(res)).code, "ERR_HANDLER_TIMEOUT");
    t.same(await json(await fetch(`${u}/accounts/a1`)), before);
    t.equal((await post("/accounts/a4", JSON.stringify({ owner: "dan" }))).status, 200);
    t.same(await json(await fetch(`${u}/accounts/by-owner/dan`)), [{ owner: "dan", balance: 0 }]);
  });
  await t.test("a single-row query answers the row, or 404", async (t) => {
    t.same(await json(await fetch(`${u}/accounts/one-by-owner/ann`)), { owner: "ann", balance: 0 });
    const none = await fetch(`${u}/accounts/one-by-owner/nobody`);
    t.equal(none.status, 404);
    t.equal((await errorOf(none)).code, "ERR_NOT_FOUND");
  });
  await t.test("operator endpoints answer", async (t) => {
    t.same(await json(await fetch(`${u}/_calyx/health`)), { status: "ok" });
    const metrics = await (await fetch(`${u}/_calyx/metrics`)).text();
    t.match(metrics, /calyx_commands_total\{component="account",command="open",outcome="ok"\} \d+/);
  });
});

t.test("endpoints: path and query parameters, headers, JSON and text bodies", async (t) => {
  const dir = t.testdir();
  const project = copyProject("fixtures/faulty", dir);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(`${project}/src/echo.ts`, `import { endpoint } from "calyx";
import { account } from "./account.js";
export const echo = endpoint({ name: "echo", routes: {
  "POST /echo/:id": (req) => ({ id: req.params["id"], q: req.query["q"], h: req.headers["x-h"], body: req.body, method: req.method }),
  "GET /owners/:id": async (req, ctx) => {
    const a = await ctx.client(account, req.params["id"] ?? "").get();
    return { owner: a.owner };
  },
} });
`);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const json1 = await fetch(`${server.url}/echo/7?q=x`, { method: "POST", headers: { "x-h": "hv", "content-type": "application/json" }, body: '{"a":1}' });
  t.same(await json(json1), { id: "7", q: "x", h: "hv", body: { a: 1 }, method: "POST" });
  const text = await fetch(`${server.url}/echo/8`, { method: "POST", headers: { "content-type": "text/plain" }, body: "not json" });
  t.same(((await json(text)) as { body: unknown }).body, "not json");
  t.equal((await fetch(`${server.url}/accounts/z1`, { method: "POST", body: JSON.stringify({ owner: "zed" }) })).status, 200);
  t.same(await json(await fetch(`${server.url}/owners/z1`)), { owner: "zed" });
  const missing = await fetch(`${server.url}/owners/none`);
  t.equal(missing.status, 404, "the entity's 404 passes through the endpoint");
});
