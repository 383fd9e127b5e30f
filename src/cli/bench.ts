/**
 * `weir bench [ADDR]`: a load generator for echo servers, written on weir. Without ADDR it
 * starts weir's echo server in this process, on a port of 127.0.0.1 the OS picks, and
 * benchmarks that.
 * @module
 */
import { awaitCancellable, type Clock, Fiber, IoError, Switch, Timeout } from "../core/index.ts";
import {
  Net,
  Sockaddr,
  type StreamAddr,
  type StreamSocket,
  type TlsConnectOptions,
  type TlsListenOptions,
} from "../net/index.ts";
import { run } from "../run.ts";
import {
  choiceOption,
  durationOption,
  type Endpoint,
  intOption,
  parseCommand,
  parseEndpoint,
  sizeOption,
  UsageError,
} from "./args.ts";
import {
  type BenchMode,
  type BenchPhase,
  BenchStats,
  connrate,
  type LoadOptions,
  pingpong,
  stream,
} from "./bench-load.ts";
import { type BenchSetup, benchResult, progressLine, summaryText } from "./bench-report.ts";
import type { Command, CommandIo } from "./command.ts";
import echoHandler from "./echo-handler.ts";
import { resolveLocal } from "./endpoint.ts";
import { StopSignals } from "./signals.ts";
import {
  clientTls,
  clientTlsFlags,
  clientTlsHelp,
  serverTls,
  serverTlsFlags,
  serverTlsHelp,
} from "./tls-flags.ts";

const HELP = `Usage: weir bench [ADDR] [options]

A load generator for echo servers. Every connection checks every byte echoed back. After a
warm-up, requests are counted for --duration; then the load stops sending and waits for
what is in flight, so every request counted is answered. Prints a live progress line on
stderr (plain lines when stderr is not a terminal), then a summary on stdout: requests and
throughput, latency p50/p90/p99/p99.9/max and a histogram (or one JSON object with --json).

SIGINT or SIGTERM stops the run early and prints the summary so far (during the warm-up
there is none: exit status 1).

Without ADDR, weir bench starts weir's echo server in this process on an OS-chosen port of
127.0.0.1 and benchmarks it (client and server then share one thread). ADDR must be on this
machine: a loopback address (127.0.0.0/8, ::1) or a Unix socket.

Modes:
  pingpong  each connection sends a --size message and waits for its echo, again and again
  stream    each connection keeps writing --size chunks (at most --window bytes not yet
            echoed) while reading the echo
  connrate  each of --connections workers: connect, send --size bytes, read them back, close

Options:
  -m, --mode MODE          pingpong, stream or connrate (default pingpong)
  -c, --connections N      connections, or connrate workers (default 50; stream 8; connrate 16)
  -s, --size BYTES         message/chunk size: 64, 16k, 1m (default 64; stream 64k)
  -d, --duration SECS      how long to measure: 2, 1.5, 500ms (default 2)
  --warmup SECS            load before measuring (default 0.5)
  --window BYTES           stream: bytes in flight per connection (default max(4 x size, 256k))
  --connect-timeout-ms MS  limit for each connect (default 10000)
  --stall-ms MS            fail if nothing is answered for MS ms (default 5000)
  --no-verify              do not check the echoed bytes
${clientTlsHelp("--tls")}
${serverTlsHelp}
                           (without ADDR and with --tls: the in-process server's certificate)
  --json                   print the summary as one JSON object
  -q, --quiet              no progress line
  -h, --help               show this help

Examples:
  weir bench                                   # weir against itself, on loopback
  weir bench tcp:127.0.0.1:7000 -c 100 -d 5
  weir bench unix:/tmp/echo.sock --mode stream --json
  weir bench 127.0.0.1:8443 --tls --ca ca.crt --mode connrate   # full TLS handshakes`;

const options = {
  mode: { type: "string", short: "m" },
  connections: { type: "string", short: "c" },
  size: { type: "string", short: "s" },
  duration: { type: "string", short: "d" },
  warmup: { type: "string" },
  window: { type: "string" },
  "connect-timeout-ms": { type: "string" },
  "stall-ms": { type: "string" },
  verify: { type: "boolean", default: true },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  ...clientTlsFlags,
  ...serverTlsFlags,
} as const;

const MODES: readonly BenchMode[] = ["pingpong", "stream", "connrate"];
const DEFAULT_CONNECTIONS: Record<BenchMode, number> = { pingpong: 50, stream: 8, connrate: 16 };
const DEFAULT_SIZE: Record<BenchMode, number> = { pingpong: 64, stream: 65536, connrate: 64 };

/** The bench stalled: nothing was answered for too long. */
class BenchStalled extends Error {
  constructor(ms: number, phase: BenchPhase) {
    const during = { warmup: "warm-up", measure: "measuring", done: "draining" }[phase];
    super(`no answer from the echo server for ${ms} ms (while ${during}): giving up`);
    this.name = "BenchStalled";
  }
}

/** The parsed command line. */
interface BenchArgs {
  readonly ep: Endpoint | undefined;
  readonly mode: BenchMode;
  readonly connections: number;
  readonly size: number;
  readonly window: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly connectTimeoutMs: number;
  readonly stallMs: number;
  readonly verify: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly tls: TlsConnectOptions | undefined;
  readonly serverTls: TlsListenOptions | undefined;
}

function parse(args: readonly string[]): BenchArgs {
  const { values, positionals } = parseCommand(args, options, [0, 1]);
  const mode = choiceOption("mode", values.mode, "pingpong", MODES);
  const tls = clientTls(values, values.tls === true, "--tls");
  const server = serverTls(values);
  if (server !== undefined && positionals[0] !== undefined) {
    throw new UsageError("--tls-cert is for the in-process server: give no ADDR with it");
  }
  if (server !== undefined && tls === undefined) throw new UsageError("--tls-cert needs --tls");
  if (tls !== undefined && positionals[0] === undefined && server === undefined) {
    throw new UsageError(
      "--tls without ADDR needs --tls-cert and --tls-key for the in-process server",
    );
  }
  const size = sizeOption("size", values.size, DEFAULT_SIZE[mode], { min: 1, max: 16 << 20 });
  return {
    ep: positionals[0] === undefined ? undefined : parseEndpoint("ADDR", positionals[0], "connect"),
    mode,
    connections: intOption("connections", values.connections, DEFAULT_CONNECTIONS[mode], {
      min: 1,
      max: 10_000,
    }),
    size,
    window: sizeOption("window", values.window, Math.max(4 * size, 256 << 10), {
      min: 1,
      max: 1 << 30,
    }),
    durationMs: durationOption("duration", values.duration, 2000, {
      bareUnit: "s",
      minMs: 1,
      maxMs: 3_600_000,
    }),
    warmupMs: durationOption("warmup", values.warmup, 500, { bareUnit: "s", maxMs: 600_000 }),
    connectTimeoutMs: durationOption("connect-timeout-ms", values["connect-timeout-ms"], 10_000, {
      bareUnit: "ms",
      minMs: 1,
      maxMs: 600_000,
    }),
    stallMs: durationOption("stall-ms", values["stall-ms"], 5000, {
      bareUnit: "ms",
      minMs: 1,
      maxMs: 600_000,
    }),
    verify: values.verify !== false,
    json: values.json === true,
    quiet: values.quiet === true,
    tls,
    serverTls: server,
  };
}

/** Connects to `target` within the time limit, attached to `sw`. */
function connectWithin(
  net: Net,
  clock: Clock,
  target: StreamAddr,
  ms: number,
  sw: Switch,
  tls: TlsConnectOptions | undefined,
): Promise<StreamSocket> {
  return Timeout.ms(clock, ms).runOr(
    () => net.connect(target, tls === undefined ? { sw } : { sw, tls }),
    () =>
      new IoError({ kind: "ConnectionFailure", reason: "Timeout" }, [
        `connecting to ${Sockaddr.format(target)}`,
      ]),
  );
}

/** Tries each address in turn; returns the first that accepts a connection. */
async function pickTarget(
  net: Net,
  clock: Clock,
  addrs: readonly StreamAddr[],
  ms: number,
  tls: TlsConnectOptions | undefined,
): Promise<StreamAddr> {
  if (addrs.length === 1) return addrs[0] as StreamAddr;
  let last: unknown;
  for (const addr of addrs) {
    try {
      await Switch.run((sw) => connectWithin(net, clock, addr, ms, sw, tls));
      return addr;
    } catch (e) {
      if (!(e instanceof IoError)) throw e;
      last = e;
    }
  }
  throw last;
}

/** Runs the load and returns the stats (and whether a signal cut it short). */
async function runLoad(
  a: BenchArgs,
  o: Omit<LoadOptions, "stats">,
  io: CommandIo,
  signals: StopSignals,
): Promise<{ stats: BenchStats; interrupted: boolean }> {
  const { clock } = o;
  const stats = new BenchStats(clock);
  const lo: LoadOptions = { ...o, stats };
  let interrupted = false;
  const live = !a.quiet && io.stderrIsTTY;
  const plain = !a.quiet && !io.stderrIsTTY && !a.json;
  await Switch.run(async (sw) => {
    // pingpong and stream: every connection first, then the clock starts
    const conns: StreamSocket[] = [];
    if (a.mode !== "connrate") {
      await Fiber.all(
        Array.from({ length: a.connections }, (_, i) => async () => {
          const c = await connectWithin(o.net, clock, o.target, a.connectTimeoutMs, sw, a.tls);
          conns[i] = c;
        }),
      );
    }
    const start = clock.now();
    sw.forkDaemon(async () => {
      const sig = await awaitCancellable(signals.first);
      interrupted = true;
      if (!a.quiet) io.err(`${live ? "\r\x1b[2K" : ""}weir bench: ${sig}: stopping early`);
      stats.stop();
    });
    // the phases (a daemon: the connections finish once the phase is "done", also when a
    // signal ends the run early)
    sw.forkDaemon(async () => {
      if (a.warmupMs > 0) await clock.sleepUntil(start + a.warmupMs);
      if (stats.phase === "warmup") stats.startMeasuring();
      await clock.sleepUntil(start + a.warmupMs + a.durationMs);
      stats.stop();
    });
    // progress lines and the stall check
    sw.forkDaemon(async () => {
      const every = live ? 250 : 1000;
      const tick = Math.min(every, Math.max(10, a.stallMs / 4));
      let last = start;
      let lastProgress = stats.progress;
      let lastProgressAt = start;
      for (;;) {
        await clock.sleep(tick);
        const now = clock.now();
        if (stats.progress !== lastProgress) {
          lastProgress = stats.progress;
          lastProgressAt = now;
        } else if (now - lastProgressAt >= a.stallMs) {
          throw new BenchStalled(a.stallMs, stats.phase);
        }
        if (now - last < every - tick / 2) continue;
        if (live || plain) {
          const line = progressLine(stats, now - start, now - last, a.size);
          if (live) io.errRaw(`\r\x1b[2K${line}`);
          else io.err(line);
        }
        stats.interval.reset();
        last = now;
      }
    });
    for (let i = 0; i < a.connections; i++) {
      const id = i + 1;
      if (a.mode === "connrate") sw.fork(() => connrate(id, lo));
      else {
        const conn = conns[i] as StreamSocket;
        sw.fork(() => (a.mode === "stream" ? stream(conn, id, lo) : pingpong(conn, id, lo)));
      }
    }
  }).finally(() => {
    if (live) io.errRaw("\r\x1b[2K");
  });
  return { stats, interrupted };
}

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const a = parse(args);
  using signals = new StopSignals();
  let status = 0;
  await run(async (env) => {
    const { net, monoClock: clock } = env;
    const bench = async (target: StreamAddr, inProcess: boolean): Promise<void> => {
      const setup: BenchSetup = {
        mode: a.mode,
        target: Sockaddr.format(target),
        inProcess,
        connections: a.connections,
        size: a.size,
        window: a.window,
        durationMs: a.durationMs,
        warmupMs: a.warmupMs,
        verify: a.verify,
      };
      const { stats, interrupted } = await runLoad(
        a,
        { net, clock, target, size: a.size, verify: a.verify, window: a.window, tls: a.tls },
        io,
        signals,
      );
      if (!stats.measured) {
        // a signal during the warm-up: there are no figures, so print none (never zeros)
        io.err("weir bench: stopped during the warm-up: nothing was measured");
        status = 1;
        return;
      }
      const result = benchResult(setup, stats, interrupted);
      io.out(a.json ? JSON.stringify(result) : summaryText(setup, stats, result));
    };
    if (a.ep !== undefined) {
      const addrs = await resolveLocal(net, "ADDR", a.ep);
      await bench(await pickTarget(net, clock, addrs, a.connectTimeoutMs, a.tls), false);
      return;
    }
    // No ADDR: weir's own echo server, in this process; it stops when the bench is done.
    await Switch.run(async (sw) => {
      const listener = await net.listen("tcp:127.0.0.1:0", {
        sw,
        backlog: 4096,
        ...(a.serverTls === undefined ? {} : { tls: a.serverTls }),
      });
      await Fiber.first(
        () => Net.runServer(listener, echoHandler, { onError: () => {} }),
        () => bench(listener.listeningAddr, true),
      );
    });
  });
  return status;
}

/** `weir bench`. */
export const bench: Command = { help: HELP, main };
