// How every command ends on an error: a CliError is one line (plus its
// detail) and exit code 1; anything else is a bug, shown with its stack.
import { CliError } from "./serve-errors.js";

export function fail(error: unknown): never {
  if (error instanceof CliError) {
    process.stderr.write(`calyx: error: ${error.message}\n${error.detail ? error.detail + "\n" : ""}`);
  } else {
    process.stderr.write(`calyx: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}

/** Wraps a yargs handler so its errors end the command through fail(). */
export function guarded<A>(handler: (args: A) => void | Promise<void>): (args: A) => Promise<void> {
  return async (args) => {
    try {
      await handler(args);
    } catch (error) {
      fail(error);
    }
  };
}
