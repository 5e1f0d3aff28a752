// `calyx new <dir>`: a project like examples/customer-registry, with a test of
// each kind. Templates live here (not on disk) so the single executable has them.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CliError } from "./serve.js";

const ENTITY = `import { keyValueEntity } from "calyx";

export interface Customer {
  name: string;
  email: string;
}

function isCustomer(c: unknown): c is Customer {
  const o = c as Partial<Customer> | null;
  return typeof o === "object" && o !== null && typeof o.name === "string" && typeof o.email === "string";
}

export const customer = keyValueEntity({
  name: "customer",
  initialState: (): Customer | null => null,
  commands: {
    create: {
      http: "POST /customers/:id",
      handler: (_state, command, ctx) =>
        isCustomer(command)
          ? ctx.update({ name: command.name, email: command.email }).reply("done")
          : ctx.error(422, 'expected {"name": string, "email": string}'),
    },
    get: {
      http: "GET /customers/:id",
      pure: true, // the reply depends on the state only: repeated reads may be answered from memory
      handler: (state, _command, ctx) => (state ? ctx.reply(state) : ctx.error(404, \`no customer \${ctx.entityId}\`)),
    },
  },
});
`;

const VIEW = `import { view } from "calyx";
import { customer } from "./customer.js";

export const customersByName = view({
  name: "customers",
  from: customer,
  queries: {
    byName: { http: "GET /customers/by-name/:name", sql: "SELECT * FROM customers WHERE name = :name" },
  },
});
`;

const TEST = `import { test } from "node:test";
import assert from "node:assert/strict";
import { entityTestKit, startTestRuntime } from "calyx/testkit";
import { customer } from "../src/customer.js";

test("unit: create stores the customer", () => {
  const kit = entityTestKit(customer, { id: "c1" });
  const result = kit.call("create", { name: "Ann", email: "ann@example.com" });
  assert.equal(result.reply, "done");
  assert.deepEqual(kit.state, { name: "Ann", email: "ann@example.com" });
});

test("unit: a bad command is a 422", () => {
  const kit = entityTestKit(customer);
  assert.equal(kit.call("create", { name: 1 }).error?.status, 422);
});

test("integration: create, then find by name over HTTP", async (t) => {
  const service = await startTestRuntime();
  t.after(() => service.stop());
  const created = await service.fetch("/customers/c1", { method: "POST", body: JSON.stringify({ name: "Ann", email: "ann@example.com" }) });
  assert.equal(await created.json(), "done");
  const found = await service.fetch("/customers/by-name/Ann");
  assert.deepEqual(await found.json(), [{ name: "Ann", email: "ann@example.com" }]);
});
`;

declare const __CALYX_API_TYPES__: string | undefined;

/** The declarations of `calyx` and `calyx/testkit` (file name → text), embedded at build time. */
function apiTypes(): Record<string, string> {
  return typeof __CALYX_API_TYPES__ === "string" ? (JSON.parse(__CALYX_API_TYPES__) as Record<string, string>) : {};
}

export function scaffold(dir: string): string {
  const root = resolve(dir);
  if (existsSync(root) && readdirSync(root).length > 0) throw new CliError(`${root} exists and is not empty; choose a new folder`);
  const name = basename(root).toLowerCase().replace(/[^a-z0-9-]/g, "-") || "calyx-service";
  const files: Record<string, string> = {
    "package.json": JSON.stringify({
      name, private: true, type: "module",
      scripts: { dev: "calyx dev", start: "calyx run", test: "calyx test" },
      // For your editor only (Calyx itself needs nothing installed): node:test's types.
      devDependencies: { "@types/node": "^20", typescript: "^5.9" },
    }, null, 2) + "\n",
    "tsconfig.json": JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true,
        // Calyx's own types, written by `calyx new` (types/calyx/): refresh them with a newer calyx by re-running it in an empty folder.
        paths: { calyx: ["./types/calyx/index.d.ts"], "calyx/testkit": ["./types/calyx/testkit.d.ts"] },
      },
      include: ["src", "test", "types"],
    }, null, 2) + "\n",
    ".gitignore": ".calyx/\nnode_modules/\n",
    "src/customer.ts": ENTITY,
    "src/customers-by-name.ts": VIEW,
    "test/customer.test.ts": TEST,
    "README.md": `# ${name}\n\nA Calyx service.\n\n- \`calyx dev\` serves it on http://127.0.0.1:9000 (data in .calyx/)\n- \`calyx test\` runs test/*.test.ts\n`,
  };
  for (const [file, text] of Object.entries(apiTypes())) files[`types/calyx/${file}`] = text;
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, content);
  }
  process.stdout.write(`created ${root}\n\nnext:\n  calyx dev ${dir}\n  calyx test ${dir}\n`);
  return root;
}
