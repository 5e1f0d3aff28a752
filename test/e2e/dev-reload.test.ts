// `calyx dev` hot reload: on save the new code serves, data and keep-alive
// connections survive; a broken save keeps the old version serving.
import t from "tap";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { copyProject, json, startCalyx } from "./helpers.js";

/** Waits until `predicate(output)` holds, polling the child's output, with a deadline. */
async function waitFor(output: () => string, predicate: (out: string) => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!predicate(output())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; output:\n${output()}`);
    await new Promise((r) => setImmediate(r));
  }
}

const reloads = (out: string): number => (out.match(/reloaded in \d+ ms/g) ?? []).length;

/** One HTTP/1.1 request on an existing keep-alive socket; resolves with the status and body. */
function request(socket: Socket, method: string, path: string, body = ""): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    let buf = "";
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const head = buf.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0);
      if (buf.length - head - 4 < length) return;
      socket.off("data", onData);
      resolve({ status: Number(buf.slice(9, 12)), body: buf.slice(head + 4, head + 4 + length) });
    };
    socket.on("data", onData);
    socket.write(`${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

t.test("reload on save keeps data and connections; a broken save keeps the old code", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["dev", project, "--port", "0", "--data", `${dir}/data`]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const port = Number(new URL(server.url).port);
  const socket = connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  t.teardown(() => socket.destroy());

  const first = await request(socket, "POST", "/customers/c1", JSON.stringify({ name: "Ann", email: "a@x.io" }));
  t.same([first.status, first.body], [200, '"done"']);

  const file = `${project}/src/customer.ts`;
  const original = readFileSync(file, "utf8");
  writeFileSync(file, original.replace('.reply("done")', '.reply("created")'));
  await waitFor(server.output, (o) => reloads(o) >= 1, "the first reload");

  const second = await request(socket, "POST", "/customers/c2", JSON.stringify({ name: "Bob", email: "b@x.io" }));
  t.same([second.status, second.body], [200, '"created"'], "the new code answers on the same connection");
  t.same(await json(await fetch(`${server.url}/customers/c1`)), { name: "Ann", email: "a@x.io" }, "data written before the reload is there");

  writeFileSync(file, original.replace("handler: (_state, command, ctx) => {", "handler: (_state, command, ctx) => {{"));
  await waitFor(server.output, (o) => /reload failed, the previous version keeps serving: src\/customer\.ts:\d+:\d+/.test(o), "the reload error");
  t.match(server.output(), /> \d+ \|/, "a code frame is shown");
  const third = await request(socket, "POST", "/customers/c3", JSON.stringify({ name: "Cy", email: "c@x.io" }));
  t.same([third.status, third.body], [200, '"created"'], "the previous version keeps serving");

  // A burst of saves is one reload.
  const before = reloads(server.output());
  for (let i = 0; i < 5; i++) writeFileSync(file, original.replace('.reply("done")', `.reply("v${i}")`));
  await waitFor(server.output, (o) => reloads(o) >= before + 1, "the burst's reload");
  writeFileSync(`${project}/src/extra.ts`, "export const nothing = 1;\n");
  await waitFor(server.output, (o) => reloads(o) >= before + 2, "the next reload");
  t.equal(reloads(server.output()), before + 2, "five quick saves caused one reload");
  const last = await request(socket, "POST", "/customers/c4", JSON.stringify({ name: "Di", email: "d@x.io" }));
  t.same(last.body, '"v4"');
  const ms = Number(/reloaded in (\d+) ms/.exec(server.output())?.[1]);
  t.comment(`reload time: ${ms} ms`);
});

t.test("a save that replaces the file (temporary file renamed over it) reloads every time", async (t) => {
  // How vim, IDEs, sed -i and git checkout save: the file gets a new inode each time.
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["dev", project, "--port", "0", "--data", `${dir}/data`]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const file = `${project}/src/customer.ts`;
  const original = readFileSync(file, "utf8");
  for (let i = 1; i <= 3; i++) {
    const before = reloads(server.output());
    writeFileSync(`${file}.tmp`, original.replace('.reply("done")', `.reply("replaced ${i}")`));
    renameSync(`${file}.tmp`, file);
    await waitFor(server.output, (o) => reloads(o) >= before + 1, `reload after replacing save ${i}`);
    const res = await fetch(`${server.url}/customers/c${i}`, { method: "POST", body: JSON.stringify({ name: "N", email: "n@x.io" }) });
    t.equal(await res.json(), `replaced ${i}`, `replacing save ${i} serves`);
  }
});

t.test("a view added while serving is built from the stored entities", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["dev", project, "--port", "0", "--data", `${dir}/data`]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  for (const [id, email] of [["a", "a@x.io"], ["b", "b@y.io"], ["c", "c@x.io"]] as const) {
    await fetch(`${server.url}/customers/${id}`, { method: "POST", body: JSON.stringify({ name: id.toUpperCase(), email }) });
  }
  writeFileSync(`${project}/src/by-email.ts`, `import { view } from "calyx";
import { customer } from "./customer.js";
export const byEmail = view({ name: "emails", from: customer,
  queries: { byEmail: { http: "GET /customers/by-email/:email", sql: "SELECT * FROM emails WHERE email = :email" } } });
`);
  await waitFor(server.output, (o) => /view 'emails' is ready/.test(o), "the new view's build");
  t.same(await json(await fetch(`${server.url}/customers/by-email/b@y.io`)), [{ name: "B", email: "b@y.io" }]);
  const views = (await json(await fetch(`${server.url}/_calyx/views`))) as { view: string; status: string }[];
  t.same(views.map((v) => [v.view, v.status]).sort(), [["customers", "ready"], ["emails", "ready"]]);
});
