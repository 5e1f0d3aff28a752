// The contract every scenario module implements.
import type { ScenarioResult, Session } from "./session.js";

export interface Scenario<D = unknown> {
  readonly name: string;
  /** One line for --help and the report. */
  readonly description: string;
  run(session: Session): Promise<ScenarioResult<D>>;
  /** Markdown lines for the console summary and bench/RESULTS.md. */
  render(result: ScenarioResult<D>): string[];
}

/** Lets a registry hold scenarios with different data types. */
export function defineScenario<D>(s: Scenario<D>): Scenario {
  return s as unknown as Scenario;
}
