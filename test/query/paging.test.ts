// Cursor paging: tokens carry the last row's sort key + pk, so pages stay
// correct while rows are inserted and deleted between requests.
import t from "tap";
import { QueryError } from "../../src/query/errors.js";
import type { Row } from "../../src/query/types.js";
import { fixture } from "./helpers/fixture.js";

const PAGED =
  "SELECT * AS items, next_page_token() AS next, has_more() AS more, total_count() AS total FROM people " +
  "WHERE age >= 18 ORDER BY age DESC OFFSET page_token_offset(:token) LIMIT 2";

interface Page {
  items: Row[];
  next: string;
  more: boolean;
  total: number;
}

function people(n: number): Record<string, Row> {
  const out: Record<string, Row> = {};
  for (let i = 0; i < n; i++) out[`p${i}`] = { age: 18 + (i % 4) };
  return out;
}

t.test("pages walk the result in order, with has_more, total and an empty last token", async (t) => {
  const f = fixture({ paged: PAGED }, people(5));
  const page = (token: string): Page => f.run("paged", { token })[0] as unknown as Page;
  const p1 = page("");
  t.same(p1.items.map((r) => r["id"]), ["p3", "p2"]);
  t.equal(p1.more, true);
  t.equal(p1.total, 5);
  const p2 = page(p1.next);
  t.same(p2.items.map((r) => r["id"]), ["p1", "p0"]);
  const p3 = page(p2.next);
  t.same(p3.items.map((r) => r["id"]), ["p4"]);
  t.equal(p3.more, false);
  t.equal(p3.next, "");
  t.same(f.run("paged", {}).length, 1, "an absent token is the first page");
});

t.test("inserts and deletes between pages neither skip nor repeat rows", async (t) => {
  const f = fixture({ paged: PAGED }, people(8));
  const page = (token: string): Page => f.run("paged", { token })[0] as unknown as Page;
  const p1 = page("");
  t.same(p1.items.map((r) => r["id"]), ["p3", "p7"], "age 21: p3, p7 (ties by pk)");
  // Delete the next row-to-be and the last row seen; insert one before and one after the cursor.
  f.view.applyRowChange(f.txn, "p2", null);
  f.view.applyRowChange(f.txn, "p7", null);
  f.view.applyRowChange(f.txn, "a0", { id: "a0", age: 21 }); // sorts before p3: already passed
  f.view.applyRowChange(f.txn, "p8", { id: "p8", age: 21 }); // after p7 in (age DESC, pk): next
  const p2 = page(p1.next);
  t.same(p2.items.map((r) => r["id"]), ["p8", "p6"]);
  const p3 = page(p2.next);
  t.same(p3.items.map((r) => r["id"]), ["p1", "p5"]);
});

t.test("tokens are checked: malformed or from another query", async (t) => {
  const f = fixture({ paged: PAGED, other: PAGED.replace("DESC", "ASC") }, people(5));
  const tok = (f.run("other", {})[0] as unknown as Page).next;
  const code = (token: string): string | undefined => {
    try {
      f.run("paged", { token });
    } catch (e) {
      return e instanceof QueryError ? e.code : String(e);
    }
    return undefined;
  };
  t.equal(code(tok), "ERR_PAGE_TOKEN_INVALID");
  t.equal(code("garbage!"), "ERR_PAGE_TOKEN_INVALID");
  t.equal(code(Buffer.from([1, 2, 3, 4, 5, 6]).toString("base64url")), "ERR_PAGE_TOKEN_INVALID");
});

t.test("open() streams a page's items and reports paging facts afterwards", async (t) => {
  const f = fixture({ paged: PAGED }, people(5));
  const cursor = f.view.queries["paged"]!.open(f.txn, {});
  const ids = [...cursor.rows].map((r) => r["id"]);
  const info = cursor.info();
  t.same(ids, ["p3", "p2"]);
  t.equal(info.hasMore, true);
  t.equal(info.totalCount, 5);
  t.type(info.nextPageToken, "string");
  t.equal(f.view.queries["paged"]!.resultShape, "page");
  t.same(f.view.queries["paged"]!.page, { itemsField: "items", nextPageTokenField: "next", hasMoreField: "more", totalCountField: "total" });
});

t.test("SELECT * AS items without paging functions wraps all rows; COUNT(*) counts", async (t) => {
  const f = fixture({ wrapped: "SELECT * AS people FROM people WHERE age = 18", count: "SELECT COUNT(*) FROM people WHERE age > 18" }, people(6));
  t.same(f.run("wrapped").map((o) => (o["people"] as Row[]).map((r) => r["id"])), [["p0", "p4"]]);
  t.same(f.run("count"), [{ count: 4 }]);
});
