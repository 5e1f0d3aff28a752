// CALYX_TRACE_STARTUP=1: each start-up phase prints when it ends (ms since the
// process started, from performance.now()) to stderr — where the time to the
// first request goes, on the machine at hand (docs/host.md "Start-up").
export const startupTrace: (phase: string) => void = process.env["CALYX_TRACE_STARTUP"] === "1"
  ? (phase) => { process.stderr.write(`calyx: startup ${phase} at ${performance.now().toFixed(1)} ms\n`); }
  : () => undefined;
