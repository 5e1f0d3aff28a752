// The contract every scenario module implements.
import type { ScenarioResult, Session } from "./session.js";

export interface Scenario<D = unknown> {
  readonly name: string;
  /** One line for --help and the report. */
  readonly description: string;
  run(session: Session): Promise<ScenarioResult<D>>;
  /** Markdown lines for the console summary and bench/RESULTS.md. */
  render(result: ScenarioResult<D>): string[];
  /** One or two sentences for the top of bench/RESULTS.md. */
  headline?(result: ScenarioResult<D>): string[];
  /** SVG charts to write next to the results: file name → SVG text. */
  charts?(result: ScenarioResult<D>): Record<string, string>;
}

/** Lets a registry hold scenarios with different data types. */
export function defineScenario<D>(s: Scenario<D>): Scenario {
  return s as unknown as Scenario;
}
