// Node SEA steps 4 of DEPENDENCIES.md: prepare the blob with the running node,
// copy that node, strip it (before injecting: stripping after breaks the
// executable), inject the blob with postject, move into place.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export const SENTINEL_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export function prepareBlob({ workDir, main, assets, useCodeCache }) {
  const seaConfig = join(workDir, "sea-config.json");
  const blob = join(workDir, "sea-prep.blob");
  writeFileSync(seaConfig, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache, useSnapshot: false, assets }, null, 2));
  run(process.execPath, ["--experimental-sea-config", seaConfig]);
  return blob;
}

/** Runs a tool quietly; its output becomes the error message if it fails. */
function run(file, args) {
  try {
    execFileSync(file, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (error) {
    throw new Error(`${[file, ...args].join(" ")} failed:\n${error.stdout ?? ""}${error.stderr ?? error.message}`);
  }
}

export function injectBlob({ root, blob, output }) {
  const temp = `${output}.${process.pid}.tmp`;
  try {
    copyFileSync(process.execPath, temp);
    chmodSync(temp, 0o755);
    let stripped = true;
    try {
      execFileSync("strip", [temp], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      if (error.code !== "ENOENT") throw error;
      stripped = false; // no binutils: a bigger file, same behaviour
    }
    // In a child process: postject's ELF code writes harmless warnings straight
    // to fd 2 ("Can't find string offset for section name '.note.100'"), shown only on failure.
    const cli = createRequire(join(root, "package.json")).resolve("postject/dist/cli.js");
    run(process.execPath, [cli, temp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SENTINEL_FUSE]);
    renameSync(temp, output);
    return { stripped };
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
