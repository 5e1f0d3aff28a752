// The customer service as a Restate virtual object (create = exclusive handler
// storing the state; get = shared handler reading it). Not part of the
// automatic runs: Restate is not a project dependency. See README.md here.
//
//   PORT=19080 node customer-object.mjs      (from a folder where @restatedev/restate-sdk is installed)

// @restatedev/restate-sdk 1.17 calls Promise.withResolvers, which Node 20 lacks.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  };
}
const restate = await import("@restatedev/restate-sdk");

const customer = restate.object({
  name: "customer",
  handlers: {
    create: async (ctx, c) => {
      ctx.set("state", { name: c.name, email: c.email });
      return "done";
    },
    get: restate.handlers.object.shared(async (ctx) => {
      const s = await ctx.get("state");
      if (s === null) throw new restate.TerminalError("not found", { errorCode: 404 });
      return s;
    }),
  },
});

restate.endpoint().bind(customer).listen(Number(process.env.PORT ?? 9080));
