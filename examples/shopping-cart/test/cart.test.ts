import { test } from "node:test";
import assert from "node:assert/strict";
import { entityTestKit, startTestRuntime } from "calyx/testkit";
import { cart } from "../src/cart.js";

const apple = { productId: "p1", name: "Apple", quantity: 2 };

test("unit: adding the same product twice adds up the quantity", () => {
  const kit = entityTestKit(cart, { id: "k1" });
  kit.call("addItem", { customerId: "c1", item: apple });
  const r = kit.call("addItem", { customerId: "c1", item: { ...apple, quantity: 3 } });
  assert.deepEqual(r.events.map((e) => e.type), ["ItemAdded"]);
  assert.equal(kit.state.items[0]?.quantity, 5);
});

test("unit: checkout twice is a 409, and persists nothing", () => {
  const kit = entityTestKit(cart);
  kit.call("addItem", { customerId: "c1", item: apple });
  assert.equal(kit.call("checkout").reply, "checked out");
  const again = kit.call("checkout");
  assert.equal(again.error?.status, 409);
  assert.deepEqual(again.events, []);
});

test("unit: an empty cart cannot check out", () => {
  assert.equal(entityTestKit(cart).call("checkout").error?.status, 422);
});

test("integration: the summary endpoint reads the cart and its customer", async (t) => {
  const service = await startTestRuntime();
  t.after(() => service.stop());
  await service.fetch("/customers/c1", { method: "POST", body: JSON.stringify({ name: "Ann", email: "ann@example.com" }) });
  await service.fetch("/carts/k1/items", { method: "POST", body: JSON.stringify({ customerId: "c1", item: apple }) });
  const summary = await service.fetch("/carts/k1/summary");
  assert.deepEqual(await summary.json(), { customer: "Ann", items: 2, checkedOut: false });
  assert.equal((await service.fetch("/carts/empty/summary")).status, 404);
  const carts = await service.fetch("/customers/c1/carts");
  assert.deepEqual(await carts.json(), [{ customerId: "c1", itemCount: 2 }]);
  assert.equal((await service.fetch("/carts/k1/checkout", { method: "POST" })).status, 200);
  assert.equal((await service.fetch("/carts/k1/checkout", { method: "POST" })).status, 409);
  assert.deepEqual(await (await service.fetch("/customers/c1/carts")).json(), []);
});
