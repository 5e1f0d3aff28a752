// `calyx views …` and the data-folder lock, through the real CLI.
import t from "tap";
import { writeFileSync } from "node:fs";
import { copyProject, json, runCalyx, startCalyx } from "./helpers.js";

t.test("explain prints the plan; list, rebuild and drop manage stored tables", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const data = `${dir}/data`;
  const explain = await runCalyx(["views", "explain", "customers", "byName", project]);
  t.equal(explain.code, 0, explain.stderr);
  t.match(explain.stdout, /index scan customers:name/);
  t.match((await runCalyx(["views", "explain", "customers", "nope", project])).stderr, /has no query 'nope' \(queries: byName, page, all\)/);

  const server = await startCalyx(["run", project, "--port", "0", "--data", data]);
  for (const id of ["a", "b", "c"]) {
    await fetch(`${server.url}/customers/${id}`, { method: "POST", body: JSON.stringify({ name: "Ann", email: `${id}@x.io` }) });
  }
  // One writer per data folder.
  const second = await runCalyx(["run", project, "--port", "0", "--data", data]);
  t.equal(second.code, 1);
  t.match(second.stderr, /data folder .* is in use by another Calyx process \(pid \d+\)/);
  t.match((await runCalyx(["views", "rebuild", "customers", project, "--data", data])).stderr, /in use by another Calyx process/);
  server.proc.kill("SIGTERM");
  t.equal(await server.exited, 0);

  t.match((await runCalyx(["views", "list", project, "--data", data])).stdout, /customers\tcustomers\tcustomer\tbyName,page,all\tready/);
  const rebuilt = await runCalyx(["views", "rebuild", "customers", project, "--data", data]);
  t.equal(rebuilt.code, 0, rebuilt.stderr);
  t.match(rebuilt.stdout, /rebuilt view 'customers'/);

  // A view removed from the code leaves its table until it is dropped.
  writeFileSync(`${project}/src/customers-by-name.ts`, "export {};\n");
  t.match((await runCalyx(["views", "list", project, "--data", data])).stdout, /customers\t-\t-\tno longer defined \(remove it with: calyx views drop customers\)/);
  const dropped = await runCalyx(["views", "drop", "customers", "--data", data]);
  t.equal(dropped.code, 0, dropped.stderr);
  t.match(dropped.stdout, /dropped view table 'customers' \(\d+ keys\)/);
  t.match((await runCalyx(["views", "drop", "customers", "--data", data])).stderr, /no stored view table 'customers'/);

  // The entities are untouched.
  const again = await startCalyx(["run", project, "--port", "0", "--data", data]);
  t.teardown(() => { again.proc.kill("SIGKILL"); });
  t.same(await json(await fetch(`${again.url}/customers/b`)), { name: "Ann", email: "b@x.io" });
});
