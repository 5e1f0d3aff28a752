// The scenarios `npm run bench -- <name>` knows, in the order `all` runs them.
import type { Scenario } from "../lib/scenario.js";
import seedTable from "./seed-table.js";

export const SCENARIOS: readonly Scenario[] = [seedTable];
