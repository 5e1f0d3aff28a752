// The seed's customer service end to end: the real CLI, a real socket, real
// workers and LMDB on disk — including a SIGKILL right after an acknowledged write.
import t from "tap";
import { copyProject, json, startCalyx } from "./helpers.js";

t.test("create, kill -9 after the ack, restart, find by id and by name", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const data = `${dir}/data`;
  const first = await startCalyx(["run", project, "--port", "0", "--data", data]);
  t.teardown(() => { first.proc.kill("SIGKILL"); });

  const created = await fetch(`${first.url}/customers/c1`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Ann", email: "ann@example.com" }),
  });
  t.equal(created.status, 200);
  t.same(await json(created), "done");
  // The reply means durable: kill at once, with no chance to flush anything.
  first.proc.kill("SIGKILL");
  t.equal(await first.exited, "SIGKILL");

  const second = await startCalyx(["run", project, "--port", "0", "--data", data]);
  t.teardown(() => { second.proc.kill("SIGKILL"); });
  const byId = await fetch(`${second.url}/customers/c1`);
  t.equal(byId.status, 200);
  t.same(await json(byId), { name: "Ann", email: "ann@example.com" });
  const byName = await fetch(`${second.url}/customers/by-name/Ann`);
  t.equal(byName.status, 200);
  t.same(await json(byName), [{ name: "Ann", email: "ann@example.com" }]);
});

t.test("read-your-writes and renames through the view", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const post = (id: string, name: string) => fetch(`${server.url}/customers/${id}`, {
    method: "POST", body: JSON.stringify({ name, email: `${id}@example.com` }),
  });
  t.equal((await post("a", "Ann")).status, 200);
  t.equal((await post("b", "Ann")).status, 200);
  t.equal((await post("c", "Bob")).status, 200);
  t.same(await json(await fetch(`${server.url}/customers/by-name/Ann`)), [
    { name: "Ann", email: "a@example.com" }, { name: "Ann", email: "b@example.com" },
  ]);
  // A rename moves the row from one index key to the other, in the same commit.
  t.equal((await post("a", "Bob")).status, 200);
  t.same(await json(await fetch(`${server.url}/customers/by-name/Ann`)), [{ name: "Ann", email: "b@example.com" }]);
  t.same((await json(await fetch(`${server.url}/customers/by-name/Bob`)) as unknown[]).length, 2);
  t.same(await json(await fetch(`${server.url}/customers/by-name/Nobody`)), []);
  // Names are path-decoded: spaces and non-ASCII work.
  t.equal((await post("d", "Zoë Ann")).status, 200);
  t.same(await json(await fetch(`${server.url}/customers/by-name/${encodeURIComponent("Zoë Ann")}`)), [{ name: "Zoë Ann", email: "d@example.com" }]);
});

t.test("SIGTERM drains and exits 0", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  t.equal((await fetch(`${server.url}/_calyx/health`)).status, 200);
  server.proc.kill("SIGTERM");
  t.equal(await server.exited, 0);
  t.match(server.output(), /stopped/);
});

t.test("paging through the view with page tokens, while writes happen between pages", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const post = (id: string, name: string) => fetch(`${server.url}/customers/${id}`, { method: "POST", body: JSON.stringify({ name, email: `${id}@x.io` }) });
  const names = Array.from({ length: 25 }, (_, i) => `N${String(i).padStart(2, "0")}`);
  for (const [i, name] of names.entries()) await post(`c${i}`, name);
  type Page = { customers: { name: string }[]; nextPageToken: string; hasMore: boolean };
  const seen: string[] = [];
  let token = "";
  for (let pages = 0; pages < 10; pages++) {
    const res = await fetch(`${server.url}/customer-pages?from=N&${token ? `pageToken=${encodeURIComponent(token)}` : ""}`);
    t.equal(res.status, 200);
    const page = (await json(res)) as Page;
    seen.push(...page.customers.map((c) => c.name));
    if (pages === 0) {
      // Between pages: a row before the cursor and one after it.
      await post("early", "N00a");
      await post("late", "N99");
    }
    if (!page.hasMore) break;
    token = page.nextPageToken;
  }
  t.same(seen, [...names, "N99"], "every row once, in order; the insert behind the cursor is not repeated or shifted in");
  const bad = await fetch(`${server.url}/customer-pages?from=N&pageToken=garbage`);
  t.equal(bad.status, 400);
  const missing = await fetch(`${server.url}/customer-pages`);
  t.equal(missing.status, 400);
  t.match(((await json(missing)) as { error: { message: string } }).error.message, /from/);
});
