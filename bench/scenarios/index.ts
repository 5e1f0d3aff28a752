// The scenarios `npm run bench -- <name>` knows, in the order `all` runs them.
import type { Scenario } from "../lib/scenario.js";
import hotEntity from "./hot-entity.js";
import max from "./max.js";
import queryUnderLoad from "./query-under-load.js";
import seedTable from "./seed-table.js";
import profile from "./profile.js";
import startup from "./startup.js";

export const SCENARIOS: readonly Scenario[] = [seedTable, max, hotEntity, queryUnderLoad, startup, profile];
