// An endpoint that reads a cart and its customer together.
import { endpoint } from "calyx";
import { cart } from "./cart.js";
import { customer } from "./customer.js";

export const cartApi = endpoint({
  name: "cart-api",
  routes: {
    "GET /carts/:id/summary": async (req, ctx) => {
      const c = await ctx.client(cart, req.params["id"] ?? "").get();
      if (c.customerId === null) throw ctx.error(404, `cart ${req.params["id"]} is empty`);
      const owner = await ctx.client(customer, c.customerId).get();
      return {
        customer: owner.name,
        items: c.items.reduce((n, i) => n + i.quantity, 0),
        checkedOut: c.checkedOut,
      };
    },
  },
});
