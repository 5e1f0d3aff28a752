// Structured logs: JSON lines (one object per line) in `run`, readable lines in `dev`.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFn = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { format: "json" | "pretty"; level: LogLevel; write?: (line: string) => void }): LogFn {
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const min = RANK[options.level];
  return (level, msg, fields = {}) => {
    if (RANK[level] < min) return;
    if (options.format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
      return;
    }
    const { stack, ...rest } = fields;
    const extra = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
    const time = new Date().toISOString().slice(11, 23);
    write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? "  " + extra : ""}${typeof stack === "string" && level === "error" ? "\n" + stack : ""}`);
  };
}
