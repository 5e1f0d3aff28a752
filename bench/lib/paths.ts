// Where the benchmark keeps its files. Everything under bench/results/tmp/ is
// scratch (git-ignored); bench/results/*.json are the latest results.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = join(BENCH_DIR, "..");
export const RESULTS_DIR = join(BENCH_DIR, "results");
export const TMP_DIR = join(RESULTS_DIR, "tmp");
