// `calyx dev`'s watcher on a real folder: a save made the moment start()
// returns is seen (at every depth), directories created or removed later are
// followed, and a burst of saves makes one reload.
import t from "tap";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DevWatcher, ignoredName } from "../../src/host/dev-watcher.js";
import { Waiter } from "../live/helpers/e2e.js";

/** A watcher whose reloads are counted; `reloads(n)` resolves once n have finished (or fails after a deadline). */
function counted(projectDir: string): { watcher: DevWatcher; reloads: (n: number) => Promise<void>; count: () => number } {
  let count = 0;
  const waiter = new Waiter();
  const watcher = new DevWatcher({
    projectDir,
    debounceMs: 20,
    reload: async () => {
      count++;
      waiter.poke();
    },
  });
  const reloads = (n: number): Promise<void> => waiter.until(() => count >= n, `${n} reload(s) (seen so far: ${count})`, 10_000);
  return { watcher, reloads, count: () => count };
}

t.test("a save right after start() is seen, in src/ and in nested folders", async (t) => {
  // Repeated with fresh watchers: with a watcher that sets itself up after
  // start() returns, some of these saves fall before it is ready.
  for (let round = 0; round < 10; round++) {
    const dir = t.testdir({ src: { "a.ts": "1", deep: { er: { still: { "b.ts": "1" } } } } });
    for (const file of [join(dir, "src", "a.ts"), join(dir, "src", "deep", "er", "still", "b.ts")]) {
      const { watcher, reloads } = counted(dir);
      watcher.start();
      writeFileSync(file, `saved in round ${round}`);
      await reloads(1);
      await watcher.stop();
    }
  }
  t.pass("every save was seen");
});

t.test("folders created after start are watched; removed ones are let go", async (t) => {
  const dir = t.testdir({ src: { "a.ts": "1", old: { "c.ts": "1" } } });
  const { watcher, reloads, count } = counted(dir);
  watcher.start();
  t.teardown(() => watcher.stop());
  const src = join(dir, "src");
  t.same(watcher.watchedDirectories().sort(), [src, join(src, "old")]);

  mkdirSync(join(src, "new", "inner"), { recursive: true });
  await reloads(1); // the new folder itself
  t.ok(watcher.watchedDirectories().includes(join(src, "new", "inner")), "a folder created with its parent is watched");
  writeFileSync(join(src, "new", "inner", "x.ts"), "1");
  await reloads(count() + 1);

  rmSync(join(src, "old"), { recursive: true });
  await reloads(count() + 1);
  t.notOk(watcher.watchedDirectories().includes(join(src, "old")), "a removed folder is no longer watched");
  mkdirSync(join(src, "old"));
  await reloads(count() + 1);
  writeFileSync(join(src, "old", "c.ts"), "2");
  await reloads(count() + 1);
  t.ok(watcher.watchedDirectories().includes(join(src, "old")), "a folder created again is watched again");
});

t.test("saves that replace the file (write a temporary file, rename it over) are seen every time", async (t) => {
  // Editors and tools (vim, IDEs, sed -i, git checkout) save this way: the
  // name gets a new inode each time, so a watch on the old file sees nothing.
  const dir = t.testdir({ src: { "a.ts": "0", sub: { "b.ts": "0" } } });
  const { watcher, reloads, count } = counted(dir);
  watcher.start();
  t.teardown(() => watcher.stop());
  for (let i = 1; i <= 4; i++) {
    for (const file of [join(dir, "src", "a.ts"), join(dir, "src", "sub", "b.ts")]) {
      const before = count();
      writeFileSync(`${file}.${i}.tmp`, String(i));
      renameSync(`${file}.${i}.tmp`, file);
      await reloads(before + 1);
    }
  }
  t.pass("every replacing save was seen");
});

t.test("a burst of saves makes one reload; a save after it makes one more", async (t) => {
  const dir = t.testdir({ src: { "a.ts": "1", "b.ts": "1", sub: { "c.ts": "1" } } });
  const { watcher, reloads, count } = counted(dir);
  watcher.start();
  t.teardown(() => watcher.stop());
  for (const f of ["a.ts", "b.ts", join("sub", "c.ts"), "a.ts"]) writeFileSync(join(dir, "src", f), "burst");
  await reloads(1);
  writeFileSync(join(dir, "src", "b.ts"), "later");
  await reloads(2);
  t.equal(count(), 2, "the burst made one reload, the later save one more");
});

t.test("editor temp files and hidden folders are ignored", async (t) => {
  for (const name of [".a.ts.swp", "a.ts.swp", "a.ts~", ".#a.ts", ".git"]) t.ok(ignoredName(name), name);
  for (const name of ["a.ts", "views.sql.ts", "swp.ts", "a~b.ts"]) t.notOk(ignoredName(name), name);
  const dir = t.testdir({ src: { "a.ts": "1", ".cache": { x: "1" }, node_modules: { y: "1" }, lib: {} } });
  const { watcher } = counted(dir);
  watcher.start();
  t.teardown(() => watcher.stop());
  t.same(watcher.watchedDirectories().sort(), [join(dir, "src"), join(dir, "src", "lib")], "hidden folders and node_modules are not watched");
});
