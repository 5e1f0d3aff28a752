// Operating errors of the host layer, with stable codes. src/http maps codes to
// HTTP statuses in one place; nothing here knows about HTTP.
import type { ProjectProblem } from "./messages.js";

export type HostErrorCode =
  /** The handler threw or returned something that is not an effect (details in the log, under errorId). */
  | "ERR_HANDLER_FAILED"
  /** The handler ran past its timeout; its worker was replaced. */
  | "ERR_HANDLER_TIMEOUT"
  /** The worker running the command crashed or was replaced; the command may be retried. */
  | "ERR_WORKER_RESTARTED"
  /** Too many commands are queued; retry after `retryAfterMs`. */
  | "ERR_OVERLOADED"
  /** No such component or command. */
  | "ERR_UNKNOWN_COMMAND"
  /** The request body is not what the command or route accepts. */
  | "ERR_BAD_REQUEST"
  /** The view is being (re)built from stored state; retry after `retryAfterMs`. */
  | "ERR_VIEW_BUILDING"
  /** The runtime is shutting down. */
  | "ERR_STOPPING";

export class HostError extends Error {
  readonly code: HostErrorCode;
  readonly errorId: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(code: HostErrorCode, message: string, options: { cause?: unknown; errorId?: string; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = "HostError";
    this.code = code;
    this.errorId = options.errorId;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A handler's own choice to fail: a 4xx the caller sees as is. */
export class CommandRejected extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "CommandRejected";
    this.status = status;
    this.code = code;
  }
}

/** The project cannot be loaded: each problem names its file (and position, when known). */
export class ProjectError extends Error {
  readonly code = "ERR_PROJECT";
  readonly problems: readonly ProjectProblem[];
  constructor(problems: readonly ProjectProblem[]) {
    super(problems.map((p) => p.message).join("\n"));
    this.name = "ProjectError";
    this.problems = problems;
  }
}

/** An error that crossed from another thread, keeping its stable code. */
export class ForwardedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ForwardedError";
    this.code = code;
  }
}
