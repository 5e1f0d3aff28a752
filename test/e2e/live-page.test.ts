// The example's live page in headless Chromium: it lists customers by name
// and updates as customers are created or renamed over plain HTTP.
// Needs Debian's chromium at /usr/bin/chromium (skipped with a reason without it).
import { existsSync } from "node:fs";
import t from "tap";
import { copyProject, startCalyx } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";

t.test("the live page lists customers by name and follows creates and renames", { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install -y chromium)` }, async (t) => {
  const { chromium } = await import("playwright-core");
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const server = await startCalyx(["run", project, "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const post = (id: string, name: string) => fetch(`${server.url}/customers/${id}`, { method: "POST", body: JSON.stringify({ name, email: `${id}@example.com` }) });
  t.equal((await post("c1", "Bob")).status, 200);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url + "/");
  const names = (): Promise<string[]> => page.locator("#customers tr td:first-child").allTextContents();
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
  await page.waitForSelector("#status[data-status=open]", { timeout: 15_000 });
  t.same(await names(), ["Bob"], "the snapshot");

  // Creates and renames over HTTP (as with curl) appear without a reload, in name order.
  t.equal((await post("c2", "Ann")).status, 200);
  await page.waitForFunction("document.querySelectorAll('#customers tr').length === 2", undefined, { timeout: 10_000 });
  t.same(await names(), ["Ann", "Bob"]);
  t.equal((await post("c1", "Aaron")).status, 200);
  await page.waitForFunction("document.querySelector('#customers tr td')?.textContent === 'Aaron'", undefined, { timeout: 10_000 });
  t.same(await names(), ["Aaron", "Ann"]);
  const ids = await Promise.all((await page.locator("#customers tr").all()).map((tr) => tr.getAttribute("data-id")));
  t.same(ids, ["c1", "c2"], "rows keep their keys");

  // The page's own form goes through the WebSocket.
  await page.fill("input[name=id]", "c3");
  await page.fill("input[name=name]", "Cy");
  await page.fill("input[name=email]", "cy@example.com");
  await page.click("form button");
  await page.waitForFunction("document.querySelectorAll('#customers tr').length === 3", undefined, { timeout: 10_000 });
  t.same(await names(), ["Aaron", "Ann", "Cy"]);
  const byName = await (await fetch(`${server.url}/customers/by-name/Cy`)).json();
  t.same(byName, [{ name: "Cy", email: "cy@example.com" }], "the write is stored");
  t.same(errors, [], "no errors in the page");
});
