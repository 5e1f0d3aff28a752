// What the AST-to-IR conversion carries around: where errors point, and the
// parameter uses collected so far.
import type { SqlPosition, ViewCompileErrorCode } from "../errors.js";
import { ViewCompileError } from "../errors.js";
import type { ParamType } from "../ir/params.js";
import { ParamCollector } from "../ir/params.js";
import type { Locator } from "./locator.js";
import type { RawNode } from "./raw-ast.js";
import { offsetOf } from "./raw-ast.js";

export class ConvertContext {
  readonly params = new ParamCollector();
  /** The table's name and alias: a column path starting with one of them drops it. */
  tableNames: ReadonlySet<string> = new Set();

  constructor(
    readonly view: string,
    readonly query: string,
    readonly locator: Locator,
  ) {}

  fail(code: ViewCompileErrorCode, at: SqlPosition, reason: string): never {
    throw new ViewCompileError(code, this.view, this.query, at, reason);
  }

  unsupported(at: SqlPosition, reason: string): never {
    return this.fail("ERR_SQL_UNSUPPORTED", at, reason);
  }

  /** The node's own position, else the enclosing one. */
  posOf(node: RawNode | null, enclosing: SqlPosition): SqlPosition {
    const o = offsetOf(node);
    return o === null ? enclosing : this.locator.at(o);
  }

  useParam(name: string, type: ParamType, declared: boolean, at: SqlPosition): void {
    const conflict = this.params.use(name, type, declared, at);
    if (conflict !== null) this.fail("ERR_PARAM_CONFLICT", conflict.at, conflict.reason);
  }
}
