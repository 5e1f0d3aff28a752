// The seed's customer service end to end: the real CLI, a real socket, real
// workers and LMDB on disk — including a SIGKILL right after an acknowledged write.
import t, { type Test } from "tap";
import { copyProject, json, runCalyx, startCalyx } from "./helpers.js";

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

// By-name queries are answered by the workers (docs/host.md "View queries in
// workers"): each must see the write whose reply came just before it, even
// while other writes and queries keep the workers busy.
t.test("read-your-writes when the workers answer the queries", async (t) => {
  const { server, post } = await startRegistry(t);
  const offloaded = async (): Promise<number> => {
    const text = await (await fetch(`${server.url}/_calyx/metrics`)).text();
    return Number(/calyx_queries_in_workers_total\{answered="worker"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  // The workers compile the views in the background after start: wait (with a deadline) until one answers.
  const deadline = Date.now() + 10_000;
  while ((await offloaded()) === 0) {
    if (Date.now() > deadline) throw new Error("no worker answered a query within 10 s");
    await fetch(`${server.url}/customers/by-name/warm`);
  }
  let stale = 0;
  // 8 clients, each: rename one customer, then read both names at once.
  await Promise.all(Array.from({ length: 8 }, async (_, c) => {
    for (let i = 0; i < 40; i++) {
      const name = `N${c}-${i}`;
      t.equal((await post(`k${c}`, name)).status, 200);
      const [now, before] = await Promise.all([
        fetch(`${server.url}/customers/by-name/${name}`).then(json),
        i > 0 ? fetch(`${server.url}/customers/by-name/N${c}-${i - 1}`).then(json) : Promise.resolve([]),
      ]);
      if (JSON.stringify(now) !== JSON.stringify([{ name, email: `k${c}@x.io` }]) || (before as unknown[]).length !== 0) stale++;
    }
  }));
  t.equal(stale, 0, "every query saw the rename acknowledged before it");
  t.ok((await offloaded()) > 300, "the workers answered the queries");
});

t.test("cached query answers follow every acknowledged write", async (t) => {
  const { server, post } = await startRegistry(t);
  const metric = async (name: string): Promise<number | undefined> => {
    const text = await (await fetch(`${server.url}/_calyx/metrics`)).text();
    const m = new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text);
    return m === null ? undefined : Number(m[1]);
  };
  const deadline = Date.now() + 10_000;
  while (((await metric('calyx_queries_in_workers_total{answered="worker"}')) ?? 0) === 0) {
    if (Date.now() > deadline) throw new Error("no worker answered a query within 10 s");
    await fetch(`${server.url}/customers/by-name/warm`);
  }
  let stale = 0;
  // 8 clients, each moving one customer around three names and reading all
  // three after every move: the name it left and the one it took are
  // invalidated, the third is answered from the cache.
  await Promise.all(Array.from({ length: 8 }, async (_, c) => {
    const names = [0, 1, 2].map((n) => `P${c}-${n}`);
    for (let i = 0; i < 40; i++) {
      const name = names[i % 3] as string;
      t.equal((await post(`k${c}`, name)).status, 200);
      const answers = await Promise.all(names.map((n) => fetch(`${server.url}/customers/by-name/${n}`).then(json)));
      for (const [j, n] of names.entries()) {
        const expected = n === name ? [{ name, email: `k${c}@x.io` }] : [];
        if (JSON.stringify(answers[j]) !== JSON.stringify(expected)) stale++;
      }
    }
  }));
  t.equal(stale, 0, "every answer, cached or not, saw the writes acknowledged before it");
  const hits = (await metric('calyx_query_cache_requests_total{outcome="hit"}')) ?? 0;
  t.ok(hits > 100, `answers came from the cache (${hits} hits)`);
  t.ok(((await metric('calyx_query_cache_dropped_total{reason="invalidated"}')) ?? 0) > 100, "and writes dropped answers");
});

t.test("reads of a pure command never return a state older than an acknowledged write", async (t) => {
  // One writer per customer numbers its writes; readers read at random. A
  // read issued after write n was acknowledged must return n or later, and
  // never a write not yet issued — whether the reply cache or a worker
  // answered. The reads outnumber the writes, so many are hits.
  const { server, post } = await startRegistry(t);
  const commitMetric = async (name: string): Promise<number> =>
    Number(new RegExp(`^${name.replace(/[{}"+]/g, "\\$&")} ([\\d.]+)$`, "m").exec(await (await fetch(`${server.url}/_calyx/metrics`)).text())?.[1] ?? NaN);
  const writesBefore = await commitMetric("calyx_commit_writes_total");
  const ids = ["r0", "r1", "r2", "r3"];
  const acked = new Map(ids.map((id) => [id, -1]));
  const issued = new Map(ids.map((id) => [id, -1]));
  let done = false;
  const problems: string[] = [];
  const writers = ids.map(async (id) => {
    for (let n = 0; n < 60; n++) {
      issued.set(id, n);
      t.equal((await post(id, `n${n}`)).status, 200);
      acked.set(id, n);
    }
  });
  let reads = 0;
  const readers = Array.from({ length: 6 }, async (_, r) => {
    for (let i = 0; !done; i++) {
      const id = ids[(r + i) % ids.length] as string;
      const floor = acked.get(id) as number;
      const res = await fetch(`${server.url}/customers/${id}`);
      reads++;
      if (res.status === 404) {
        if (floor >= 0) problems.push(`${id}: 404 after write ${floor} was acknowledged`);
        continue;
      }
      const n = Number(((await res.json()) as { name: string }).name.slice(1));
      if (n < floor) problems.push(`${id}: read n${n} after n${floor} was acknowledged`);
      if (n > (issued.get(id) as number)) problems.push(`${id}: read n${n} before it was written`);
    }
  });
  await Promise.all(writers);
  done = true;
  await Promise.all(readers);
  t.same(problems, [], `${reads} reads`);
  const text = await (await fetch(`${server.url}/_calyx/metrics`)).text();
  const hits = Number(/^calyx_reply_cache_requests_total\{outcome="hit"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  t.ok(hits > 50, `some reads came from the reply cache (${hits} hits of ${reads})`);
  // The committer's metrics: every acknowledged write was in a committed batch.
  t.equal(await commitMetric("calyx_commit_writes_total") - writesBefore, 240, "240 writes committed");
  const commits = await commitMetric('calyx_commits_total{outcome="ok"}');
  t.ok(commits >= 1 && commits <= 240 + writesBefore, `${commits} commits`);
  t.equal(await commitMetric("calyx_commit_duration_seconds_count"), commits + await commitMetric('calyx_commits_total{outcome="failed"}'));
  t.equal(await commitMetric('calyx_commit_duration_seconds_bucket{le="+Inf"}'), await commitMetric("calyx_commit_duration_seconds_count"));
  for (const id of ids) t.same(await json(await fetch(`${server.url}/customers/${id}`)), { name: "n59", email: `${id}@x.io` });
});

t.test("--query-cache-mb 0 and --reply-cache-mb 0 turn the caches off", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--durability", "none", "--query-cache-mb", "0"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  await fetch(`${server.url}/customers/a`, { method: "POST", body: JSON.stringify({ name: "Ann", email: "a@x.io" }) });
  for (let i = 0; i < 3; i++) t.same(await json(await fetch(`${server.url}/customers/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }]);
  t.notMatch(await (await fetch(`${server.url}/_calyx/metrics`)).text(), /calyx_query_cache/);
  const noReplies = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data3`, "--durability", "none", "--reply-cache-mb", "0"]);
  t.teardown(() => { noReplies.proc.kill("SIGKILL"); });
  await fetch(`${noReplies.url}/customers/a`, { method: "POST", body: JSON.stringify({ name: "Ann", email: "a@x.io" }) });
  for (let i = 0; i < 3; i++) t.same(await json(await fetch(`${noReplies.url}/customers/a`)), { name: "Ann", email: "a@x.io" });
  t.notMatch(await (await fetch(`${noReplies.url}/_calyx/metrics`)).text(), /calyx_reply_cache/, "--reply-cache-mb 0 turns the reply cache off");
  const bad = await runCalyx(["run", project, "--port", "0", "--data", `${dir}/data2`, "--query-cache-mb", "-1"]);
  t.equal(bad.code, 1);
  t.equal(bad.stderr, "calyx: error: --query-cache-mb must be a number ≥ 0, got -1\n", "one line, no stack");
  const port = await runCalyx(["run", project, "--port", "70000", "--data", `${dir}/data2`]);
  t.equal(port.stderr, "calyx: error: --port must be 0..65535, got 70000\n");
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
  const { server, post } = await startRegistry(t);
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

/** The example on a fresh data folder (no fsync), and a POST that sets a customer's name (email: <id>@x.io). */
async function startRegistry(t: Test) {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const post = (id: string, name: string) => fetch(`${server.url}/customers/${id}`, { method: "POST", body: JSON.stringify({ name, email: `${id}@x.io` }) });
  return { server, post };
}
