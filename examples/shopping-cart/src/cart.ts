// An event-sourced shopping cart: commands persist events; applyEvent folds them.
import { eventSourcedEntity } from "calyx";

export interface LineItem {
  productId: string;
  name: string;
  quantity: number;
}

export interface Cart {
  customerId: string | null;
  items: LineItem[];
  checkedOut: boolean;
}

export type CartEvent =
  | { type: "ItemAdded"; customerId: string; item: LineItem }
  | { type: "ItemRemoved"; productId: string }
  | { type: "CheckedOut" };

function isLineItem(x: unknown): x is LineItem {
  const o = x as Partial<LineItem> | null;
  return typeof o === "object" && o !== null && typeof o.productId === "string" && typeof o.name === "string"
    && typeof o.quantity === "number" && Number.isInteger(o.quantity) && o.quantity > 0;
}

export const cart = eventSourcedEntity({
  name: "cart",
  initialState: (): Cart => ({ customerId: null, items: [], checkedOut: false }),
  applyEvent: (state: Cart, event: CartEvent): Cart => {
    switch (event.type) {
      case "ItemAdded": {
        const existing = state.items.find((i) => i.productId === event.item.productId);
        const items = existing
          ? state.items.map((i) => (i.productId === event.item.productId ? { ...i, quantity: i.quantity + event.item.quantity } : i))
          : [...state.items, event.item];
        return { ...state, customerId: event.customerId, items };
      }
      case "ItemRemoved":
        return { ...state, items: state.items.filter((i) => i.productId !== event.productId) };
      case "CheckedOut":
        return { ...state, checkedOut: true };
    }
  },
  commands: {
    addItem: {
      http: "POST /carts/:id/items",
      handler: (state, command: { customerId?: unknown; item?: unknown }, ctx) => {
        if (state.checkedOut) return ctx.error(409, "the cart is checked out");
        if (typeof command?.customerId !== "string" || !isLineItem(command.item)) {
          return ctx.error(422, 'expected {"customerId": string, "item": {"productId", "name", "quantity" > 0}}');
        }
        return ctx.persist({ type: "ItemAdded", customerId: command.customerId, item: command.item }).reply((s) => s);
      },
    },
    removeItem: {
      http: "DELETE /carts/:id/items/:productId",
      handler: (state, _command, ctx) => {
        const productId = ctx.request?.params["productId"] ?? "";
        if (state.checkedOut) return ctx.error(409, "the cart is checked out");
        if (!state.items.some((i) => i.productId === productId)) return ctx.error(404, `no item ${productId} in the cart`);
        return ctx.persist({ type: "ItemRemoved", productId }).reply((s) => s);
      },
    },
    checkout: {
      http: "POST /carts/:id/checkout",
      handler: (state, _command, ctx) => {
        if (state.checkedOut) return ctx.error(409, "the cart is already checked out");
        if (state.items.length === 0) return ctx.error(422, "the cart is empty");
        return ctx.persist({ type: "CheckedOut" }).reply("checked out");
      },
    },
    get: {
      http: "GET /carts/:id",
      handler: (state, _command, ctx) => ctx.reply(state),
    },
  },
});
