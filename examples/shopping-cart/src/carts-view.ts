// Open carts by customer, kept up to date event by event: each updater gets
// the previous row and one event (Kalix's "transform updates").
import { view, type ViewRow } from "calyx";
import { cart } from "./cart.js";

// A row: { customerId, quantities: { productId: n }, itemCount, checkedOut }.
const quantitiesOf = (row: ViewRow | null): Record<string, number> => (row?.["quantities"] as Record<string, number> | undefined) ?? {};
const total = (q: Record<string, number>): number => Object.values(q).reduce((a, b) => a + b, 0);

export const cartsByCustomer = view({
  name: "carts",
  from: cart,
  updater: {
    ItemAdded: (row, event) => {
      const before = quantitiesOf(row);
      const quantities = { ...before, [event.item.productId]: (before[event.item.productId] ?? 0) + event.item.quantity };
      return { customerId: event.customerId, quantities, itemCount: total(quantities), checkedOut: false };
    },
    ItemRemoved: (row, event) => {
      if (!row) return undefined;
      const quantities = { ...quantitiesOf(row) };
      delete quantities[event.productId];
      return { ...row, quantities, itemCount: total(quantities) };
    },
    CheckedOut: (_row, _event, ctx) => ctx.deleteRow(),
  },
  queries: {
    byCustomer: {
      http: "GET /customers/:customerId/carts",
      sql: "SELECT customerId, itemCount FROM carts WHERE customerId = :customerId AND checkedOut = false",
    },
  },
});
