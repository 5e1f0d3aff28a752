import t from "tap";
import { HttpError, toErrorResponse } from "../../src/http/errors.js";

t.test("codes map to statuses in one table", async (t) => {
  t.equal(toErrorResponse({ code: "ERR_DISK_FULL", message: "disk full" }).status, 507);
  t.equal(toErrorResponse({ code: "ERR_HANDLER_TIMEOUT", message: "slow" }).status, 504);
  t.equal(toErrorResponse({ code: "ERR_PARAM_MISSING", message: "name" }).status, 400);
  t.equal(toErrorResponse(new HttpError(413, "ERR_BODY_TOO_LARGE", "big")).status, 413);
});

t.test("a handler's chosen status is kept", async (t) => {
  const e = Object.assign(new Error("taken"), { name: "CommandRejected", status: 409, code: "CONFLICT" });
  const r = toErrorResponse(e);
  t.equal(r.status, 409);
  t.same(r.body, { error: { code: "CONFLICT", message: "taken" } });
});

t.test("retryable errors carry Retry-After in whole seconds", async (t) => {
  const r = toErrorResponse({ code: "ERR_OVERLOADED", message: "busy", retryAfterMs: 100 });
  t.equal(r.status, 503);
  t.equal(r.headers["retry-after"], "1");
});

t.test("unexpected errors hide their message", async (t) => {
  const r = toErrorResponse(new Error("password=hunter2"));
  t.equal(r.status, 500);
  t.equal(r.internal, true);
  t.same(r.body, { error: { code: "ERR_INTERNAL", message: "internal error" } });
});
