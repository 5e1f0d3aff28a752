import t from "tap";
t.test("a passing assertion", async (t) => {
  t.equal(1 + 1, 2);
});
