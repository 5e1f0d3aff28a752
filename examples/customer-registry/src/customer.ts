// The seed's CustomerEntity: a key-value entity keyed by customer id.
import { keyValueEntity } from "calyx";

export interface Customer {
  name: string;
  email: string;
}

export interface CreateCustomer {
  name: string;
  email: string;
}

function isCreateCustomer(c: unknown): c is CreateCustomer {
  const o = c as Partial<CreateCustomer> | null;
  return typeof o === "object" && o !== null && typeof o.name === "string" && typeof o.email === "string";
}

export const customer = keyValueEntity({
  name: "customer",
  initialState: (): Customer | null => null,
  commands: {
    create: {
      http: "POST /customers/:id",
      handler: (_state, command, ctx) => {
        if (!isCreateCustomer(command)) return ctx.error(422, 'expected {"name": string, "email": string}');
        return ctx.update({ name: command.name, email: command.email }).reply("done");
      },
    },
    get: {
      http: "GET /customers/:id",
      // The reply depends on the state only: the server may answer repeated
      // reads from memory until the customer is written again.
      pure: true,
      handler: (state, _command, ctx) =>
        state === null ? ctx.error(404, `no customer with id ${ctx.entityId}`) : ctx.reply(state),
    },
  },
});
