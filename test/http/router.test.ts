import t from "tap";
import fc from "fast-check";
import { Router, split } from "../../src/http/router.js";

t.test("static segments win over parameters, at every depth", async (t) => {
  const r = new Router<string>();
  r.add("GET", "/customers/:id", "byId");
  r.add("GET", "/customers/by-name/:name", "byName");
  r.add("POST", "/customers/:id", "create");
  const byName = r.lookup("GET", "/customers/by-name/Ann");
  t.same(byName.kind === "found" && byName.match, { value: "byName", params: { name: "Ann" } });
  const byId = r.lookup("GET", "/customers/by-name");
  t.same(byId.kind === "found" && byId.match, { value: "byId", params: { id: "by-name" } });
  const post = r.lookup("POST", "/customers/c%201");
  t.same(post.kind === "found" && post.match, { value: "create", params: { id: "c 1" } });
});

t.test("a path known under other methods is method-not-allowed, listing them", async (t) => {
  const r = new Router<string>();
  r.add("GET", "/a/:id", "get");
  r.add("POST", "/a/:id", "post");
  t.same(r.lookup("DELETE", "/a/1"), { kind: "method-not-allowed", allow: ["GET", "POST"] });
  t.same(r.lookup("GET", "/b/1"), { kind: "not-found" });
  t.same(r.lookup("GET", "/a"), { kind: "not-found" });
  t.same(r.lookup("GET", "/a/"), { kind: "not-found" }, "an empty parameter does not match");
});

t.test("HEAD is served by GET; trailing slashes are ignored", async (t) => {
  const r = new Router<string>();
  r.add("GET", "/x/:id", "get");
  t.equal(r.lookup("HEAD", "/x/1").kind, "found");
  t.equal(r.lookup("GET", "/x/1/").kind, "found");
});

t.test("parameter names may differ per method on the same shape", async (t) => {
  const r = new Router<string>();
  r.add("GET", "/c/:id", "get");
  r.add("PUT", "/c/:key", "put");
  const put = r.lookup("PUT", "/c/9");
  t.same(put.kind === "found" && put.match.params, { key: "9" });
  t.throws(() => r.add("GET", "/c/:other", "again"), /registered twice/);
});

t.test("a malformed escape is kept as written", async (t) => {
  const r = new Router<string>();
  r.add("GET", "/c/:id", "get");
  const m = r.lookup("GET", "/c/%E0%A4%A");
  t.same(m.kind === "found" && m.match.params, { id: "%E0%A4%A" });
});

t.test("split gives what split(\"/\").slice(1) gives after trimming one trailing slash, for any path", async (t) => {
  const reference = (path: string): string[] => (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path).split("/").slice(1);
  for (const path of ["", "/", "//", "///", "/a", "/a/", "/a//b", "a", "a/", "a/b", "/a/b/", "/%41/b%2Fc"]) t.same(split(path), reference(path), JSON.stringify(path));
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(fc.constantFrom("/", "a", "b", "%", "2F", "")).map((parts) => parts.join("")),
    (path) => JSON.stringify(split(path)) === JSON.stringify(reference(path))), { numRuns: 500 }), "500 random paths agree");
});

t.test("parameters are decoded only when they hold a %", async (t) => {
  const r = new Router<string>();
  r.add("GET", "/c/:id", "get");
  const found = (path: string) => { const l = r.lookup("GET", path); return l.kind === "found" ? l.match.params : undefined; };
  t.same(found("/c/plain"), { id: "plain" });
  t.same(found("/c/a%20b"), { id: "a b" });
  t.same(found("/c/100%"), { id: "100%" }, "a malformed escape is kept as it is");
});
