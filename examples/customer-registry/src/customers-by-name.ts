// The seed's CustomerByNameView: customers, queried by name through an index on `name`.
import { view } from "calyx";
import { customer } from "./customer.js";

export const customersByName = view({
  name: "customers",
  from: customer,
  queries: {
    byName: { http: "GET /customers/by-name/:name", sql: "SELECT * FROM customers WHERE name = :name" },
    // All customers in name order, ten at a time: GET /customer-pages?from=A, then add &pageToken=<nextPageToken>.
    page: {
      http: "GET /customer-pages",
      sql: `SELECT * AS customers, next_page_token() AS nextPageToken, has_more() AS hasMore
            FROM customers WHERE name >= :from ORDER BY name OFFSET page_token_offset(:pageToken) LIMIT 10`,
    },
    // Every customer by name (the live page at / subscribes to it).
    all: { http: "GET /customers", sql: "SELECT * FROM customers ORDER BY name LIMIT 500" },
  },
});
