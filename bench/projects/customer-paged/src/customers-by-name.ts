// The seed's view plus a paged ORDER BY … LIMIT query, for the
// query-under-load scenario (the baseline serves the same SQL on SQLite).
import { view } from "calyx";
import { customer } from "./customer.js";

export const customersByName = view({
  name: "customers",
  from: customer,
  queries: {
    byName: { http: "GET /customers/by-name/:name", sql: "SELECT * FROM customers WHERE name = :name" },
    page: { http: "GET /customers/page/:from", sql: "SELECT * FROM customers WHERE name >= :from ORDER BY name LIMIT 20" },
  },
});
