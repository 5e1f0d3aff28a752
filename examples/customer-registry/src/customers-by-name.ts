// The seed's CustomerByNameView: customers, queried by name through an index on `name`.
import { view } from "calyx";
import { customer } from "./customer.js";

export const customersByName = view({
  name: "customers",
  from: customer,
  queries: {
    byName: { http: "GET /customers/by-name/:name", sql: "SELECT * FROM customers WHERE name = :name" },
    // Every customer by name (the live page at / subscribes to it).
    all: { http: "GET /customers", sql: "SELECT * FROM customers ORDER BY name LIMIT 500" },
  },
});
