// tap reporter: passes tap's TAP output through unchanged and closes with the
// line "N passed, N failed, N skipped", which CI recognises (tap's own
// "# { total: … }" summary is not). Counts are assertions, over all files.
import { Transform } from "node:stream";

export default class CountingReporter extends Transform {
  #pending = "";
  #pass = 0;
  #fail = 0;
  #skip = 0;

  _transform(chunk, _enc, cb) {
    const text = this.#pending + chunk.toString();
    const lines = text.split("\n");
    this.#pending = lines.pop() ?? "";
    for (const line of lines) this.#count(line);
    cb(null, chunk);
  }

  _flush(cb) {
    if (this.#pending) this.#count(this.#pending);
    cb(null, `\n${this.#pass} passed, ${this.#fail} failed, ${this.#skip} skipped\n`);
  }

  // A leaf assertion is an "ok"/"not ok" line not followed by a subtest body;
  // subtest summary lines carry "# time=" or a "# Subtest" header precedes them.
  #count(line) {
    const m = /^(\s*)(not ok|ok) \d+(.*)$/.exec(line);
    if (!m) return;
    const rest = m[3];
    if (/# time=/.test(rest)) return; // a subtest's (or file's) closing line, not an assertion
    if (/(^|[^\\])#\s*(SKIP|TODO)\b/i.test(rest)) this.#skip++;
    else if (m[2] === "ok") this.#pass++;
    else this.#fail++;
  }
}
