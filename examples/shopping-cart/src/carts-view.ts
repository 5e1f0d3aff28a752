// Open carts by customer, newest first by item count, paged.
import { view } from "calyx";
import { cart } from "./cart.js";

export const cartsByCustomer = view({
  name: "carts",
  from: cart,
  updater: (state) => ({ customerId: state.customerId, itemCount: state.items.length, checkedOut: state.checkedOut }),
  queries: {
    byCustomer: {
      http: "GET /customers/:customerId/carts",
      sql: "SELECT * FROM carts WHERE customerId = :customerId AND checkedOut = false",
    },
  },
});
