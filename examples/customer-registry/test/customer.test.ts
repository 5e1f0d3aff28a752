import { test } from "node:test";
import assert from "node:assert/strict";
import { entityTestKit, startTestRuntime } from "calyx/testkit";
import { customer } from "../src/customer.js";

test("unit: create stores the customer and replies done", () => {
  const kit = entityTestKit(customer, { id: "c1" });
  assert.equal(kit.call("create", { name: "Ann", email: "ann@example.com" }).reply, "done");
  assert.deepEqual(kit.state, { name: "Ann", email: "ann@example.com" });
});

test("unit: a missing field is a 422 and changes nothing", () => {
  const kit = entityTestKit(customer);
  assert.equal(kit.call("create", { name: "Ann" }).error?.status, 422);
  assert.equal(kit.state, null);
});

test("integration: the by-name view shows a write as soon as it is acknowledged", async (t) => {
  const service = await startTestRuntime();
  t.after(() => service.stop());
  for (const [id, name] of [["c1", "Ann"], ["c2", "Bob"], ["c3", "Ann"]] as const) {
    const res = await service.fetch(`/customers/${id}`, { method: "POST", body: JSON.stringify({ name, email: `${id}@example.com` }) });
    assert.equal(res.status, 200);
  }
  const anns = (await (await service.fetch("/customers/by-name/Ann")).json()) as { email: string }[];
  assert.deepEqual(anns.map((c) => c.email), ["c1@example.com", "c3@example.com"]);
  assert.equal((await service.fetch("/customers/nobody")).status, 404);
});
