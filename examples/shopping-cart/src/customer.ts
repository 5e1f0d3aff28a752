// The customer a cart belongs to: a key-value entity.
import { keyValueEntity } from "calyx";

export interface Customer {
  name: string;
  email: string;
}

export const customer = keyValueEntity({
  name: "customer",
  initialState: (): Customer | null => null,
  commands: {
    create: {
      http: "POST /customers/:id",
      handler: (_state, c: Partial<Customer> | null, ctx) =>
        typeof c?.name === "string" && typeof c.email === "string"
          ? ctx.update({ name: c.name, email: c.email }).reply("done")
          : ctx.error(422, 'expected {"name": string, "email": string}'),
    },
    get: {
      http: "GET /customers/:id",
      handler: (state, _c, ctx) => (state ? ctx.reply(state) : ctx.error(404, `no customer ${ctx.entityId}`)),
    },
  },
});
