// Maps offsets of the SQL text to line/column, and finds constructs the
// parser does not locate (node-sql-parser only attaches `loc` to some nodes).
import type { SqlPosition } from "../errors.js";

export class Locator {
  readonly sql: string;
  private readonly lineStarts: number[] = [0];

  constructor(sql: string) {
    this.sql = sql;
    for (let i = 0; i < sql.length; i++) if (sql.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  at(offset: number): SqlPosition {
    let line = 0;
    while (line + 1 < this.lineStarts.length && (this.lineStarts[line + 1] as number) <= offset) line++;
    return { line: line + 1, column: offset - (this.lineStarts[line] as number) + 1 };
  }

  /** Position of the first match of `pattern` (case-insensitive), else of `fallback`. */
  find(pattern: RegExp, fallback: SqlPosition = { line: 1, column: 1 }): SqlPosition {
    const re = new RegExp(pattern.source, "i");
    const m = re.exec(this.sql);
    return m === null ? fallback : this.at(m.index);
  }

  /** Position of identifier or keyword `word` as a whole word, else `fallback`. */
  findWord(word: string, fallback?: SqlPosition): SqlPosition {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return this.find(new RegExp(`(?<![\\w.])${escaped}(?![\\w])`), fallback);
  }
}
