// The load generator's engine: raw HTTP/1.1 over keep-alive TCP sockets, one
// request in flight per connection (no pipelining).
//
// Open loop: request n is due at t0 + n / rate whatever the server does; its
// latency is measured from that intended time, so a stalled server is charged
// for every request it delayed (no coordinated omission). Due requests that
// find no free connection wait in a queue, and that wait counts. Node timers
// fire at 1 ms granularity, so due requests are also dispatched whenever a
// response arrives; the remaining timer lateness is measured (`genLag`) and
// reported as the generator's share of each latency.
//
// Closed loop: each connection sends its next request as soon as the answer
// arrives; this measures throughput, not latency under a given load.
import { connect, type Socket } from "node:net";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { customerPath, preloadRecord } from "./dataset.js";
import { encode, newHistogram, type Histogram } from "./histogram.js";
import { ResponseParser } from "./http-parser.js";
import type { ClassRaw, ClosedJob, Job, LoadRaw, OpenJob, PreloadJob } from "./loadgen-protocol.js";
import { machineBusy, machineCpu, mainThreadCpuMs, processesCpuMs, type MachineCpu } from "./proc.js";
import { postRequest, RequestFactory } from "./workload.js";

const CONNECT_TIMEOUT_MS = 5_000;
/** One read buffer for every connection: a read is parsed before the next one lands, and the parser copies what it keeps. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const STATUS_MAX = 600;
/** Pseudo-statuses: the connection failed (an error), or no answer came before the end (not an error: a lower-bound latency). */
const FAILED = 0;
const UNANSWERED = 1;

class Conn {
  readonly socket: Socket;
  cls = 0;
  intended = 0;
  sentAt = 0;
  busy = false;
  dead = false;

  constructor(socket: Socket) {
    this.socket = socket;
  }
}

/** A FIFO of free connections, so every connection stays in use (and alive). */
class Ring {
  #items: (Conn | undefined)[];
  #head = 0;
  #size = 0;
  constructor(capacity: number) {
    this.#items = new Array<Conn | undefined>(Math.max(1, capacity));
  }
  get size(): number {
    return this.#size;
  }
  push(c: Conn): void {
    if (this.#size === this.#items.length) {
      const bigger = new Array<Conn | undefined>(this.#items.length * 2);
      for (let i = 0; i < this.#size; i++) bigger[i] = this.#items[(this.#head + i) % this.#items.length];
      this.#items = bigger;
      this.#head = 0;
    }
    this.#items[(this.#head + this.#size) % this.#items.length] = c;
    this.#size++;
  }
  shift(): Conn | undefined {
    if (this.#size === 0) return undefined;
    const c = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return c;
  }
}

/** Per-class tallies for the measured window. */
class ClassStats {
  readonly latency: Histogram = newHistogram();
  readonly service: Histogram = newHistogram();
  readonly statuses = new Int32Array(STATUS_MAX);
  count = 0;
  errors = 0;

  constructor(readonly name: string) {}

  record(status: number, latencyMs: number, serviceMs: number): void {
    this.latency.recordValue(Math.max(1, (latencyMs * 1000) | 0));
    this.service.recordValue(Math.max(1, (serviceMs * 1000) | 0));
    this.count++;
    if (status >= 400 || status === FAILED) this.errors++;
    const i = status >= 0 && status < STATUS_MAX ? status : 0;
    this.statuses[i] = (this.statuses[i] as number) + 1;
  }

  raw(): ClassRaw {
    const statuses: Record<string, number> = {};
    this.statuses.forEach((n, s) => {
      if (n > 0) statuses[s === FAILED ? "failed" : s === UNANSWERED ? "unanswered" : String(s)] = n;
    });
    return { name: this.name, count: this.count, errors: this.errors, statuses, latency: encode(this.latency), service: encode(this.service) };
  }
}

/** CPU and event-loop samples at the edges of the measured window. */
class WindowSampler {
  #cpu: NodeJS.CpuUsage | undefined;
  #elu: EventLoopUtilization | undefined;
  #server: (number | undefined)[] = [];
  #serverMain: number | undefined;
  #machine: MachineCpu | undefined;
  #startAt = 0;
  result: Pick<LoadRaw, "genCpuMs" | "genElu" | "serverCpuMs" | "serverMainCpuMs" | "machineBusy" | "windowMs"> | undefined;

  constructor(readonly serverPids: readonly (readonly number[])[]) {}

  get started(): boolean {
    return this.#cpu !== undefined;
  }

  start(now: number): void {
    this.#startAt = now;
    this.#cpu = process.cpuUsage();
    this.#elu = performance.eventLoopUtilization();
    this.#server = this.serverPids.map(processesCpuMs);
    this.#serverMain = this.#mainThreadMs();
    this.#machine = machineCpu();
  }

  end(now: number): void {
    if (this.result !== undefined) return;
    if (!this.started) this.start(now);
    const cpu = process.cpuUsage(this.#cpu);
    const elu = performance.eventLoopUtilization(this.#elu);
    const main = this.#mainThreadMs();
    this.result = {
      windowMs: now - this.#startAt,
      genCpuMs: (cpu.user + cpu.system) / 1000,
      genElu: elu.utilization,
      serverCpuMs: this.serverPids.map((pids, i) => {
        const a = this.#server[i];
        const b = processesCpuMs(pids);
        return a === undefined || b === undefined ? null : b - a;
      }),
      serverMainCpuMs: this.#serverMain === undefined || main === undefined ? null : main - this.#serverMain,
      machineBusy: machineBusy(this.#machine ?? machineCpu(), machineCpu()),
    };
  }

  /** The main thread of the server under test's first process. */
  #mainThreadMs(): number | undefined {
    const pid = this.serverPids[0]?.[0];
    return pid === undefined ? undefined : mainThreadCpuMs(pid);
  }
}

interface ConnHandlers {
  onResponse(conn: Conn, status: number): void;
  onGone(conn: Conn): void;
}

function openConnection(host: string, port: number, handlers: ConnHandlers): Promise<Conn> {
  return new Promise((resolve, reject) => {
    // Both callbacks run only once bytes arrive, after `conn` and `socket` exist.
    const parser = new ResponseParser((status) => handlers.onResponse(conn, status));
    const socket = connect({
      host, port, noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number): boolean => {
          try {
            parser.feed(READ_BUFFER.subarray(0, n));
          } catch {
            socket.destroy();
          }
          return true;
        },
      },
    });
    const conn = new Conn(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(conn);
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      if (conn.dead) return;
      conn.dead = true;
      handlers.onGone(conn);
    });
  });
}

async function openConnections(host: string, port: number, n: number, handlers: ConnHandlers): Promise<Conn[]> {
  // A few at a time: a burst of hundreds of SYNs can overflow a small backlog.
  const out: Conn[] = [];
  for (let i = 0; i < n; i += 32) {
    const batch = await Promise.all(Array.from({ length: Math.min(32, n - i) }, () => openConnection(host, port, handlers)));
    out.push(...batch);
  }
  return out;
}

function closeAll(conns: readonly Conn[]): void {
  for (const c of conns) {
    c.dead = true;
    c.socket.destroy();
  }
}

const EMPTY_HIST = encode(newHistogram());

export async function runJob(job: Job): Promise<LoadRaw> {
  switch (job.kind) {
    case "open":
      return runOpen(job);
    case "closed":
      return runClosed(job);
    case "preload":
      return runPreload(job);
  }
}

async function runOpen(job: OpenJob): Promise<LoadRaw> {
  if (!(job.rate > 0)) throw new Error(`rate must be > 0, got ${job.rate}`);
  const factory = new RequestFactory(job.workload, `${job.host}:${job.port}`, job.seed);
  const stats = job.workload.ops.map((o) => new ClassStats(o.name));
  const genLag = newHistogram();
  const connWait = newHistogram();
  const sampler = new WindowSampler(job.serverPids);
  const free = new Ring(job.connections);
  let socketErrors = 0;
  let inflight = 0;
  let stopped = false;
  let reconnecting = 0;
  let t0 = 0;
  let winStart = Infinity;
  let winEnd = Infinity;
  const inWindow = (t: number): boolean => t >= winStart && t < winEnd;
  const interval = 1000 / job.rate;
  const total = Math.round(((job.warmupMs + job.durationMs) * job.rate) / 1000);
  // Queue of due requests waiting for a connection: intended and dispatch times.
  let qIntended: number[] = [];
  let qPumped: number[] = [];
  let qHead = 0;
  let next = 0;
  let sent = 0;
  let completedInWindow = 0;
  /** An abort ends the window for the achieved rate: answers drained after it are not "achieved" in it. */
  let countUntil = Infinity;
  let maxBacklog = 0;
  let aborted = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => { finish = resolve; });
  let conns: Conn[] = [];

  let pump = (): void => {};
  const handlers: ConnHandlers = {
    onResponse(conn, status) {
      const now = performance.now();
      conn.busy = false;
      inflight--;
      if (inWindow(conn.intended)) (stats[conn.cls] as ClassStats).record(status, now - conn.intended, now - conn.sentAt);
      if (inWindow(now) && now <= countUntil) completedInWindow++;
      if (!stopped) free.push(conn);
      pump();
    },
    onGone(conn) {
      socketErrors++;
      if (conn.busy) {
        conn.busy = false;
        inflight--;
        const now = performance.now();
        if (inWindow(conn.intended)) (stats[conn.cls] as ClassStats).record(FAILED, now - conn.intended, now - conn.sentAt);
      }
      // Servers close idle keep-alive connections; replace them while running.
      if (!stopped) {
        reconnecting++;
        openConnection(job.host, job.port, handlers).then((c) => {
          reconnecting--;
          conns.push(c);
          if (stopped) closeAll([c]);
          else free.push(c);
        }, () => { reconnecting--; });
      }
    },
  };
  conns = await openConnections(job.host, job.port, job.connections, handlers);
  for (const c of conns) free.push(c);


  const send = (conn: Conn, intended: number, pumped: number, now: number): void => {
    const cls = factory.pick();
    conn.cls = cls;
    conn.intended = intended;
    conn.sentAt = now;
    conn.busy = true;
    inflight++;
    if (inWindow(intended)) {
      sent++;
      connWait.recordValue(Math.max(1, ((now - pumped) * 1000) | 0));
    }
    conn.socket.write(factory.build(cls), "latin1");
  };

  const stopGenerating = (now: number): void => {
    next = total;
    if (timer) clearTimeout(timer);
    timer = undefined;
    sampler.end(now);
  };

  pump = (): void => {
    if (stopped) return;
    const now = performance.now();
    if (!sampler.started && now >= winStart) sampler.start(now);
    if (now >= winEnd) sampler.end(now);
    while (next < total) {
      const intended = t0 + next * interval;
      if (intended > now) break;
      if (inWindow(intended)) genLag.recordValue(Math.max(1, ((now - intended) * 1000) | 0));
      qIntended.push(intended);
      qPumped.push(now);
      next++;
    }
    while (qHead < qIntended.length && free.size > 0) {
      const conn = free.shift() as Conn;
      if (conn.dead) continue;
      send(conn, qIntended[qHead] as number, qPumped[qHead] as number, now);
      qHead++;
    }
    const backlog = qIntended.length - qHead;
    if (backlog > maxBacklog) maxBacklog = backlog;
    if (backlog > 0 && now - (qIntended[qHead] as number) > job.abortBacklogMs && !aborted) {
      // Saturated: the queue only grows from here. Stop offering load; what is
      // queued or in flight is recorded with its wait so far (a lower bound).
      aborted = true;
      const settleMs = Math.min(job.drainMs, 1_000);
      if (now < winStart + settleMs) {
        // Saturated before the measured window began (during warm-up), or so
        // soon after that its few answers would say nothing (a window of a
        // few ms, with no CPU tick of the server in it): measure the drain
        // instead — everything answered or still waiting from now on is
        // charged with its wait (lower bounds), and the achieved rate is what
        // the server got through meanwhile, its backlog still queued.
        winStart = -Infinity;
        winEnd = now + settleMs;
        sent = 0;
        completedInWindow = 0;
        sampler.start(now);
        next = total;
        if (timer) clearTimeout(timer);
        timer = undefined;
      } else {
        countUntil = now;
        stopGenerating(now);
      }
    }
    if (qHead > 4096 && qHead * 2 > qIntended.length) {
      qIntended = qIntended.slice(qHead);
      qPumped = qPumped.slice(qHead);
      qHead = 0;
    }
    if (next >= total) {
      if (qHead === qIntended.length && inflight === 0) finish();
      return;
    }
    if (timer === undefined) {
      const delay = t0 + next * interval - now;
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, delay > 1 ? Math.floor(delay) : 0);
    }
  };

  t0 = performance.now() + 10;
  winStart = t0 + job.warmupMs;
  winEnd = winStart + job.durationMs;
  pump();
  const drainTimer = setTimeout(finish, job.warmupMs + job.durationMs + 10 + job.drainMs);
  // An abort ends the run early; give in-flight requests a short drain.
  const abortWatch = setInterval(() => {
    if (aborted) {
      clearInterval(abortWatch);
      setTimeout(finish, Math.min(job.drainMs, 1_000));
    }
  }, 50);
  await done;
  clearTimeout(drainTimer);
  clearInterval(abortWatch);
  if (timer) clearTimeout(timer);
  stopped = true;
  const now = performance.now();
  sampler.end(now);
  let timedOut = 0;
  let unsent = 0;
  for (const c of conns) {
    if (c.busy && inWindow(c.intended)) {
      (stats[c.cls] as ClassStats).record(UNANSWERED, now - c.intended, now - c.sentAt);
      timedOut++;
    }
  }
  for (let i = qHead; i < qIntended.length; i++) {
    const intended = qIntended[i] as number;
    if (!inWindow(intended)) continue;
    (stats[factory.pick()] as ClassStats).record(UNANSWERED, now - intended, 0);
    unsent++;
  }
  // Requests never even queued because of an abort: charge them too, or an
  // aborted step would look better than it was.
  if (aborted) {
    for (let n = next; n < total; n++) {
      const intended = t0 + n * interval;
      if (inWindow(intended) && intended < now) {
        (stats[factory.pick()] as ClassStats).record(UNANSWERED, now - intended, 0);
        unsent++;
      }
    }
  }
  closeAll(conns);
  const s = sampler.result as NonNullable<WindowSampler["result"]>;
  return {
    kind: "open", classes: stats.map((c) => c.raw()), windowMs: s.windowMs, sent, completedInWindow,
    genLag: encode(genLag), connWait: encode(connWait), timedOut, unsent, aborted, maxBacklog,
    genCpuMs: s.genCpuMs, genElu: s.genElu, serverCpuMs: s.serverCpuMs, serverMainCpuMs: s.serverMainCpuMs, machineBusy: s.machineBusy,
    connections: conns.length + reconnecting, socketErrors, elapsedMs: now - t0,
  };
}

async function runClosed(job: ClosedJob): Promise<LoadRaw> {
  const factory = new RequestFactory(job.workload, `${job.host}:${job.port}`, job.seed);
  const stats = job.workload.ops.map((o) => new ClassStats(o.name));
  const sampler = new WindowSampler(job.serverPids);
  let stopped = false;
  let inflight = 0;
  let socketErrors = 0;
  let completedInWindow = 0;
  let sent = 0;
  let winStart = Infinity;
  let winEnd = Infinity;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => { finish = resolve; });

  const send = (conn: Conn): void => {
    const now = performance.now();
    if (!sampler.started && now >= winStart) sampler.start(now);
    const cls = factory.pick();
    conn.cls = cls;
    conn.intended = now;
    conn.sentAt = now;
    conn.busy = true;
    inflight++;
    if (now >= winStart && now < winEnd) sent++;
    conn.socket.write(factory.build(cls), "latin1");
  };
  const handlers: ConnHandlers = {
    onResponse(conn, status) {
      const now = performance.now();
      conn.busy = false;
      inflight--;
      if (conn.sentAt >= winStart && now < winEnd) {
        (stats[conn.cls] as ClassStats).record(status, now - conn.sentAt, now - conn.sentAt);
        completedInWindow++;
      }
      if (now >= winEnd) {
        sampler.end(now);
        stopped = true;
      }
      if (!stopped) send(conn);
      else if (inflight === 0) finish();
    },
    onGone(conn) {
      socketErrors++;
      if (conn.busy) {
        conn.busy = false;
        inflight--;
      }
      if (stopped && inflight === 0) finish();
    },
  };
  const conns = await openConnections(job.host, job.port, job.connections, handlers);
  const t0 = performance.now();
  winStart = t0 + job.warmupMs;
  winEnd = winStart + job.durationMs;
  for (const c of conns) send(c);
  const endTimer = setTimeout(() => {
    sampler.end(performance.now());
    stopped = true;
    if (inflight === 0) finish();
  }, job.warmupMs + job.durationMs + 5);
  const drainTimer = setTimeout(finish, job.warmupMs + job.durationMs + 5_000);
  await done;
  clearTimeout(endTimer);
  clearTimeout(drainTimer);
  const now = performance.now();
  sampler.end(now);
  closeAll(conns);
  const s = sampler.result as NonNullable<WindowSampler["result"]>;
  return {
    kind: "closed", classes: stats.map((c) => c.raw()), windowMs: job.durationMs, sent, completedInWindow,
    genLag: EMPTY_HIST, connWait: EMPTY_HIST, timedOut: 0, unsent: 0, aborted: false, maxBacklog: 0,
    genCpuMs: s.genCpuMs, genElu: s.genElu, serverCpuMs: s.serverCpuMs, serverMainCpuMs: s.serverMainCpuMs, machineBusy: s.machineBusy,
    connections: conns.length, socketErrors, elapsedMs: now - t0,
  };
}

async function runPreload(job: PreloadJob): Promise<LoadRaw> {
  const host = `${job.host}:${job.port}`;
  const stats = new ClassStats("preload");
  const sampler = new WindowSampler(job.serverPids);
  let next = job.from;
  let inflight = 0;
  let socketErrors = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const send = (conn: Conn): void => {
    if (next >= job.to) {
      if (inflight === 0) finish();
      return;
    }
    const r = preloadRecord(next++, job.dataset);
    conn.sentAt = performance.now();
    conn.intended = conn.sentAt;
    conn.busy = true;
    inflight++;
    conn.socket.write(postRequest(host, customerPath(job.dataset, "post", r.id), `{"name":"${r.name}","email":"${r.email}"}`), "latin1");
  };
  const handlers: ConnHandlers = {
    onResponse(conn, status) {
      const now = performance.now();
      conn.busy = false;
      inflight--;
      stats.record(status, now - conn.sentAt, now - conn.sentAt);
      send(conn);
    },
    onGone(conn) {
      socketErrors++;
      if (conn.busy) {
        conn.busy = false;
        inflight--;
        stats.record(FAILED, 0, 0);
      }
      if (inflight === 0) finish();
    },
  };
  const conns = await openConnections(job.host, job.port, job.connections, handlers);
  const t0 = performance.now();
  sampler.start(t0);
  for (const c of conns) send(c);
  await done;
  const now = performance.now();
  sampler.end(now);
  closeAll(conns);
  const s = sampler.result as NonNullable<WindowSampler["result"]>;
  return {
    kind: "preload", classes: [stats.raw()], windowMs: s.windowMs, sent: job.to - job.from, completedInWindow: stats.count,
    genLag: EMPTY_HIST, connWait: EMPTY_HIST, timedOut: 0, unsent: job.to - next, aborted: false, maxBacklog: 0,
    genCpuMs: s.genCpuMs, genElu: s.genElu, serverCpuMs: s.serverCpuMs, serverMainCpuMs: s.serverMainCpuMs, machineBusy: s.machineBusy,
    connections: conns.length, socketErrors, elapsedMs: now - t0,
  };
}
