// --transport node: the same HTTP API over node:http, for platforms without a
// uWS build — chosen explicitly and said so in the log.
import t from "tap";
import { createServer } from "node:net";
import { copyProject, json, runCalyx, startCalyx } from "./helpers.js";

t.test("the customer service and its errors over node:http", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--transport", "node", "--body-limit", "256"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  t.match(server.output(), /transport node:http/);
  const u = server.url;
  const post = (path: string, body: string) => fetch(u + path, { method: "POST", headers: { "content-type": "application/json" }, body });
  t.same(await json(await post("/customers/c1", JSON.stringify({ name: "Ann", email: "a@x.io" }))), "done");
  t.same(await json(await fetch(`${u}/customers/c1`)), { name: "Ann", email: "a@x.io" });
  t.same(await json(await fetch(`${u}/customers/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }]);
  const errorCode = async (res: Response) => [res.status, ((await json(res)) as { error: { code: string } }).error.code];
  t.same(await errorCode(await fetch(`${u}/customers/nobody`)), [404, "NOT_FOUND"]);
  t.same(await errorCode(await fetch(`${u}/nope`)), [404, "ERR_NOT_FOUND"]);
  const wrong = await fetch(`${u}/customers/c1`, { method: "PUT" });
  t.equal(wrong.headers.get("allow"), "POST, GET");
  t.same(await errorCode(wrong), [405, "ERR_METHOD_NOT_ALLOWED"]);
  t.same(await errorCode(await post("/customers/c2", "{bad")), [400, "ERR_BAD_JSON"]);
  t.same(await errorCode(await post("/customers/c2", JSON.stringify({ name: "x".repeat(300), email: "e" }))), [413, "ERR_BODY_TOO_LARGE"]);
  t.equal((await fetch(`${u}/_calyx/health`)).status, 200);
  server.proc.kill("SIGTERM");
  t.equal(await server.exited, 0);
});

t.test("a busy port is a clear error with node:http too", async (t) => {
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, "127.0.0.1", res));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const dir = t.testdir();
  const r = await runCalyx(["run", copyProject("customer-registry", dir), "--port", String(port), "--data", `${dir}/data`, "--transport", "node"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /the port is in use/);
});

t.test("live queries over WebSocket work on node:http too", async (t) => {
  const { CalyxClient } = await import("../../src/client/index.js");
  const dir = t.testdir();
  const server = await startCalyx(["run", copyProject("customer-registry", dir), "--port", "0", "--data", `${dir}/data`, "--transport", "node"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const client = new CalyxClient(server.url);
  t.teardown(() => client.close());
  let latest: readonly Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  client.subscribe("customers", "byName", { name: "Ann" }, (rows) => { latest = rows; wake?.(); });
  // Wait for the subscription's callback, with one deadline for the whole wait.
  const until = async (ok: () => boolean, what: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000); });
    try {
      while (!ok()) await Promise.race([new Promise<void>((r) => { wake = r; }), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
  t.equal(await client.call("customer", "create", "c1", { name: "Ann", email: "a@x.io" }), "done");
  await until(() => latest.length === 1, "the change");
  t.same(latest.map((r) => r["email"]), ["a@x.io"]);
});
