import t from "tap";
import { eventSourcedEntity, keyValueEntity } from "../../src/api/index.js";
import { entityTestKit } from "../../src/api/testkit.js";

interface Cart { items: string[]; checkedOut: boolean }
type CartEvent = { type: "added"; item: string } | { type: "checkedOut" };

const cart = eventSourcedEntity({
  name: "cart",
  initialState: (): Cart => ({ items: [], checkedOut: false }),
  applyEvent: (s: Cart, e: CartEvent): Cart => (e.type === "added" ? { ...s, items: [...s.items, e.item] } : { ...s, checkedOut: true }),
  commands: {
    add: { handler: (_s, c: { item: string }, ctx) => ctx.persist({ type: "added", item: c.item }).reply((s: Cart) => s.items.length) },
    checkout: {
      handler: (s, _c, ctx) => (s.checkedOut ? ctx.error(409, "already checked out") : ctx.persist({ type: "checkedOut" }).reply("ok")),
    },
    peek: { handler: (s, _c, ctx) => ctx.reply(s.items) },
  },
});

t.test("event-sourced: events fold into state; reply may be a function of the new state", async (t) => {
  const kit = entityTestKit(cart, { id: "k1" });
  t.equal(kit.call("add", { item: "apple" }).reply, 1);
  const r = kit.call("add", { item: "pear" });
  t.equal(r.reply, 2);
  t.same(r.events, [{ type: "added", payload: { type: "added", item: "pear" } }]);
  t.same(kit.state.items, ["apple", "pear"]);
  t.equal(kit.call("checkout").reply, "ok");
  const again = kit.call("checkout");
  t.same(again.error, { status: 409, code: "CONFLICT", message: "already checked out" });
  t.same(again.events, [], "a rejected command persists nothing");
  t.equal(kit.events.length, 3);
  t.same(kit.call("peek").events, [], "a read persists nothing");
});

const counter = keyValueEntity({
  name: "counter",
  initialState: (): number => 0,
  commands: {
    inc: { handler: (s, _c, ctx) => ctx.update(s + 1).reply(s + 1) },
    reset: { handler: (_s, _c, ctx) => ctx.delete().reply("gone") },
    bad: { handler: (_s, _c, ctx) => ctx.error(500, "no") },
    boom: { handler: () => { throw new Error("boom"); } },
  },
});

t.test("key-value: update, delete back to the initial state, errors", async (t) => {
  const kit = entityTestKit(counter);
  kit.call("inc");
  t.equal(kit.call("inc").reply, 2);
  t.same(kit.call("reset").events, [{ type: "delete", payload: null }]);
  t.equal(kit.state, 0);
  t.throws(() => kit.call("bad"), /status must be a 4xx/);
  t.throws(() => kit.call("boom"), /boom/);
  t.equal(kit.state, 0, "a throwing handler changes nothing");
});
