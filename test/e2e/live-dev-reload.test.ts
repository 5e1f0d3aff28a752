// `calyx dev`: subscriptions survive a hot reload on the same socket. An
// unchanged query keeps its stream (no reset, seq continues); a query whose
// SQL (and so its index) changed gets reset, then, once the view is rebuilt,
// a fresh snapshot in its new shape.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { CalyxClient } from "../../src/client/client.js";
import { recordingSockets, Waiter, writeItemsProject } from "../live/helpers/e2e.js";
import { startCalyx } from "./helpers.js";

t.test("live subscriptions survive hot reloads in calyx dev", async (t) => {
  const dir = t.testdir();
  const project = writeItemsProject(dir, {
    byColor: "SELECT * FROM items WHERE color = :color",
    names: "SELECT * FROM items WHERE color = :color ORDER BY name LIMIT 10",
  });
  const server = await startCalyx(["dev", project, "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const waiter = new Waiter();
  const rec = recordingSockets(() => waiter.poke());
  const client = new CalyxClient(server.url, { WebSocket: rec.factory });
  t.teardown(() => client.close());
  const red = client.subscribe("items", "byColor", { color: "red" }, () => waiter.poke());
  const names = client.subscribe("items", "names", { color: "red" }, () => waiter.poke());
  await Promise.all([red.ready(), names.ready()]);
  t.equal(await client.call("item", "put", "a", { name: "a", color: "red" }), "ok");
  const reloads = (): number => (server.output().match(/reloaded in \d+ ms/g) ?? []).length;
  const poll = setInterval(() => waiter.poke(), 20); // the child's output has no event of ours
  t.teardown(() => clearInterval(poll));

  // 1. A code change that leaves the view alone.
  const file = join(project, "src", "item.ts");
  const source = readFileSync(file, "utf8");
  writeFileSync(file, source.replace('ctx.update(c).reply("ok")', 'ctx.update(c).reply("stored")'));
  await waiter.until(() => reloads() >= 1, "the first reload", 20_000);
  t.equal(await client.call("item", "put", "b", { name: "b", color: "red" }), "stored", "the new code runs");
  t.same(red.rows.map((r) => r["name"]), ["a", "b"], "the subscription kept following across the reload");
  t.equal(rec.sockets.length, 1, "on the same socket");
  t.equal(rec.received.filter((m) => m["type"] === "reset").length, 0, "no reset");
  t.equal(rec.received.filter((m) => m["type"] === "snapshot").length, 2, "no new snapshot");

  // 2. A query's SQL and index change: the view is rebuilt; its subscribers get reset, then the new result.
  writeFileSync(file, readFileSync(file, "utf8").replace("SELECT * FROM items WHERE color = :color ORDER BY name LIMIT 10", "SELECT name FROM items WHERE color = :color ORDER BY name DESC LIMIT 10"));
  await waiter.until(() => reloads() >= 2, "the second reload", 20_000);
  await waiter.until(() => rec.received.some((m) => m["type"] === "reset"), "the reset");
  await waiter.until(() => JSON.stringify(names.rows) === JSON.stringify([{ name: "b" }, { name: "a" }]), "the new shape and order").catch((e: unknown) => {
    t.comment(JSON.stringify(rec.received.slice(-6)));
    throw e;
  });
  await client.call("item", "put", "c", { name: "c", color: "red" });
  t.same(names.rows, [{ name: "c" }, { name: "b" }, { name: "a" }]);
  t.same(red.rows.map((r) => r["name"]), ["a", "b", "c"]);
});
