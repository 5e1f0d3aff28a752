// Errors the client rejects with: the server's stable code (docs/protocol.md)
// and the HTTP status the same error has, or a client-side code.

export class CalyxError extends Error {
  override readonly name = "CalyxError";
  /** ERR_* from the server, or ERR_DISCONNECTED / ERR_TIMEOUT / ERR_CLOSED from the client. */
  readonly code: string;
  readonly status: number | undefined;
  readonly errorId: string | undefined;
  /** Whether trying again may succeed (the socket dropped, the server was busy). */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { status?: number | undefined; errorId?: string | undefined } = {}) {
    super(message);
    this.code = code;
    this.status = options.status;
    this.errorId = options.errorId;
    this.retryable = code === "ERR_DISCONNECTED" || code === "ERR_TIMEOUT" || options.status === 503;
  }
}
