// Crash safety against the list of acknowledged writes: a child process
// (fixtures/crash-writer.ts) commits continuously with durability "full" and
// prints every acknowledged write; we SIGKILL it at a random moment, reopen the
// folder and check it, then let the next child continue on the same folder.
//
// CRASH_ITERATIONS / CRASH_SEED override the defaults (a longer soak:
// CRASH_ITERATIONS=500 npx tap test/storage/crash.test.ts).
import t from "tap";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { encodeKey } from "../../src/storage/key-codec.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import type { JournalEntry } from "../../src/storage/store.js";

const ITERATIONS = Number(process.env["CRASH_ITERATIONS"] ?? 20);
const SEED = Number(process.env["CRASH_SEED"] ?? Date.now() % 1_000_000);
/** Bound on the whole test: iterations stop early (and say so) past it. */
const TOTAL_BUDGET_MS = Number(process.env["CRASH_BUDGET_MS"] ?? 120_000);
const WRITER = fileURLToPath(new URL("./fixtures/crash-writer.ts", import.meta.url));

let seed = SEED || 1;
const random = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

interface Ack {
  component: string;
  id: string;
  seq: number;
  globalSeq: number;
}

/** Runs one child until it has printed `ready`, then kills it after a random delay. */
function runAndKill(dataDir: string, childSeed: number, killAfterMs: number): Promise<{ acks: Ack[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, dataDir, String(childSeed)], { stdio: ["ignore", "pipe", "pipe"] });
    const acks: Ack[] = [];
    let buffered = "";
    let stderr = "";
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "ready") {
          killTimer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
          continue;
        }
        const [tag, component, id, seq, globalSeq] = line.split(" ");
        if (tag === "ack" && component && id) acks.push({ component, id, seq: Number(seq), globalSeq: Number(globalSeq) });
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (signal !== "SIGKILL") reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${stderr}`));
      else resolve({ acks, stderr });
    });
  });
}

void t.test(`SIGKILL at random moments loses no acknowledged write (seed ${SEED})`, async (t) => {
  const dataDir = t.testdir();
  const started = Date.now();
  const allAcks: Ack[] = [];
  let iterations = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    if (Date.now() - started > TOTAL_BUDGET_MS) {
      t.comment(`time budget reached after ${i} iterations`);
      break;
    }
    // Mostly mid-stream kills; sometimes right after start (mid-recovery).
    const killAfterMs = random() < 0.2 ? Math.floor(random() * 5) : Math.floor(random() * 300);
    const { acks, stderr } = await runAndKill(dataDir, Math.floor(random() * 1e9) + 1, killAfterMs);
    allAcks.push(...acks);
    iterations++;
    const problems = await check(dataDir, allAcks);
    if (problems.length > 0) {
      t.fail(`iteration ${i} (killed after ${killAfterMs} ms, ${acks.length} acks): ${problems.slice(0, 5).join("; ")}`, { stderr });
      return;
    }
  }
  t.ok(iterations >= Math.min(ITERATIONS, 20), `${iterations} kill/reopen iterations`);
  t.ok(allAcks.length > 0, `${allAcks.length} acknowledged writes checked`);
});

/** Everything the crash must not break; returns problems found. */
async function check(dataDir: string, acks: readonly Ack[]): Promise<string[]> {
  const problems: string[] = [];
  const store = openLmdbStore({ path: dataDir, readOnly: true });
  try {
    const head = store.journalHead();
    const journal = store.readJournal(1, head + 1);
    // 1. no gaps, no duplicates
    for (let i = 0; i < journal.length; i++) {
      if ((journal[i] as JournalEntry).globalSeq !== i + 1) {
        problems.push(`journal position ${i} holds globalSeq ${(journal[i] as JournalEntry).globalSeq}`);
        break;
      }
    }
    if (journal.length !== head) problems.push(`journal has ${journal.length} records, head is ${head}`);
    // 2. every acknowledged write is there
    for (const a of acks) {
      const rec = journal[a.globalSeq - 1];
      if (!rec || rec.component !== a.component || rec.id !== a.id || rec.entitySeq !== a.seq) {
        problems.push(`acknowledged ${a.component}/${a.id}@${a.seq} (g${a.globalSeq}) missing: found ${JSON.stringify(rec)}`);
      }
      const s = store.getState(a.component, a.id);
      if (!s || s.seq < a.seq) problems.push(`state of ${a.component}/${a.id} is at seq ${s?.seq}, acknowledged ${a.seq}`);
    }
    // 3. each entity's history (replayEntity) matches the journal; states and view rows match their journal
    const byEntity = new Map<string, JournalEntry[]>();
    for (const e of journal) {
      const k = `${e.component}/${e.id}`;
      let list = byEntity.get(k);
      if (!list) byEntity.set(k, (list = []));
      list.push(e);
    }
    for (const [k, records] of byEntity) {
      const [component, id] = k.split("/") as [string, string];
      const replay = store.replayEntity(component, id);
      if (replay.map((e) => e.globalSeq).join() !== records.map((e) => e.globalSeq).join()) problems.push(`history of ${k} differs from the journal`);
      const last = records[records.length - 1] as JournalEntry;
      const state = store.getState(component, id);
      if (state?.seq !== last.entitySeq) problems.push(`${k}: state seq ${state?.seq} != last journal entitySeq ${last.entitySeq}`);
      const row = store.read((txn) => txn.get("rows", encodeKey([component === "counter" ? "counters" : "profiles", id])));
      if (component === "counter") {
        const total = records.reduce((sum, e) => sum + (e.payload as number), 0); // the fold of the journal
        if ((state?.state as { total?: number } | undefined)?.total !== total) problems.push(`${k}: state ${JSON.stringify(state)} != fold of journal ${total}`);
        if (JSON.stringify(row) !== JSON.stringify({ id, total })) problems.push(`${k}: view row ${JSON.stringify(row)} != recomputed {id, total: ${total}}`);
      } else if (last.type === "delete") {
        if (!state?.deleted) problems.push(`${k}: last record is a delete, state is ${JSON.stringify(state)}`);
        if (row !== undefined) problems.push(`${k}: deleted entity still has a view row`);
      } else {
        if (JSON.stringify(state?.state) !== JSON.stringify(last.payload)) problems.push(`${k}: state ${JSON.stringify(state)} != last journal payload`);
        const name = (last.payload as { name: string }).name;
        if (JSON.stringify(row) !== JSON.stringify({ id, name })) problems.push(`${k}: view row ${JSON.stringify(row)} != recomputed`);
      }
    }
  } finally {
    await store.close();
  }
  return problems;
}
