/** A user-facing failure of a CLI command: printed as one line (plus an optional detail), exit code 1. */
export class CliError extends Error {
  readonly detail: string | undefined;
  constructor(message: string, detail?: string) {
    super(message);
    this.detail = detail;
  }
}
