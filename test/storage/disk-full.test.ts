// Disk full on a real, small file system (a 2 MiB tmpfs; needs root and mount).
// The same rules are also checked with an injected fault on every machine
// (committer.test.ts, "a failed commit rejects the whole batch").
import t from "tap";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Committer } from "../../src/storage/committer.js";
import { isStorageError } from "../../src/storage/errors.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";

function tryMount(dir: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (${(error as Error).message.split("\n")[0] ?? "?"}); the injected-fault test in committer.test.ts covers the rules`;
  }
}

const mountPoint = mkdtempSync(join(tmpdir(), "calyx-diskfull-"));
const skip = tryMount(mountPoint);
if (skip !== undefined) rmSync(mountPoint, { recursive: true, force: true });

void t.test("disk full: the write fails with ERR_DISK_FULL, reads work, nothing acknowledged is lost, writes resume once space is freed", { skip: skip ?? false }, async (t) => {
  t.teardown(() => {
    execFileSync("umount", [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });
  const dataDir = join(mountPoint, "data");
  const filler = join(mountPoint, "filler");
  const store = openLmdbStore({ path: dataDir, durability: "full" });
  const committer = new Committer(store);
  committer.start();
  writeFileSync(filler, Buffer.alloc(1024 * 1024));

  const acknowledged: string[] = [];
  const value = "x".repeat(2000);
  let failure: unknown;
  for (let i = 0; i < 5000 && failure === undefined; i++) {
    try {
      await committer.submit({ component: "c", id: `e${i}`, baseSeq: 0, state: { value }, events: [] });
      acknowledged.push(`e${i}`);
    } catch (error) {
      failure = error;
    }
  }
  t.ok(acknowledged.length > 10, `${acknowledged.length} writes acknowledged before the disk filled`);
  t.ok(isStorageError(failure, "ERR_DISK_FULL"), `failure is ERR_DISK_FULL: ${String((failure as Error | undefined)?.message)}`);
  t.match((failure as Error).message, /free space/, "the message says how to fix it");

  // reads keep working
  t.same(store.getState("c", acknowledged[0] as string)?.seq, 1);
  t.same(store.getState("c", acknowledged[acknowledged.length - 1] as string)?.seq, 1);
  // still full: still a clean failure
  await t.rejects(committer.submit({ component: "c", id: "still-full", baseSeq: 0, state: { value }, events: [] }), { code: "ERR_DISK_FULL" });

  rmSync(filler);
  const again = await committer.submit({ component: "c", id: "after", baseSeq: 0, state: { value: "small" }, events: [] });
  t.equal(again.seq, 1, "writes succeed again once space is freed");

  await committer.stop();
  await store.close();
  const reopened = openLmdbStore({ path: dataDir });
  const missing = acknowledged.filter((id) => reopened.getState("c", id)?.seq !== 1);
  t.same(missing, [], "every acknowledged write is present after reopening");
  t.equal(reopened.getState("c", "after")?.state, "small");
  await reopened.close();
});
