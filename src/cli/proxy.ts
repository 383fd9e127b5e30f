/**
 * `weir proxy --listen ADDR --to ADDR`: a TCP/Unix forwarder on `Net.runServer`.
 * @module
 */
import { Fiber, IoError, isCancelled, isIoError, Switch } from "../core/index.ts";
import { Flow, type Sink, type Source } from "../flow/index.ts";
import { Sockaddr, type StreamAddr, type StreamSocket } from "../net/index.ts";
import { encodeV1, encodeV2 } from "../net/proxy-protocol/index.ts";
import { run } from "../run.ts";
import {
  choiceOption,
  durationOption,
  formatEndpoint,
  intOption,
  modeOption,
  parseCommand,
  parseEndpoint,
  UsageError,
} from "./args.ts";
import type { Command, CommandIo } from "./command.ts";
import { listenAddress, withConnection } from "./endpoint.ts";
import { describeErrorOneLine } from "./errors.ts";
import { deadlineFlags, deadlineOptions, serveUntilStopped } from "./serve.ts";
import { StopSignals } from "./signals.ts";
import {
  clientTls,
  clientTlsFlags,
  clientTlsHelp,
  serverTls,
  serverTlsFlags,
  serverTlsHelp,
} from "./tls-flags.ts";

const HELP = `Usage: weir proxy --listen ADDR --to ADDR [options]

Forwards every connection made to --listen to a new connection to --to, copying both ways;
when one side stops sending, the other side is half-closed, so protocols that rely on
end-of-file work. The first line on stdout is "listening on ADDR"; then one line per finished
connection: the client, the target, bytes up (client to target) and down, the duration and
how it ended. SIGINT or SIGTERM stops it as 'weir echo' does: no new connections, the open
ones get --drain-timeout, then the rest are closed; exit status 0. A connection with no byte
moving either way for --idle-timeout (default 300 s) is closed, both sides.

ADDR  tcp:HOST:PORT, unix:PATH, HOST:PORT, [IPV6]:PORT, PORT (on 127.0.0.1) or a path
      starting with / or ./ (a --to host name is looked up for each connection)

Options:
  --listen ADDR            where to accept clients (port 0: the OS picks one)
  --to ADDR                where to forward them
  --max-connections N      forward at most N connections at once (no accept while full)
  --connect-timeout MS     give up connecting to the target after MS (default 10s;
                           --connect-timeout-ms is the old name)
  --idle-timeout MS        close both sides after MS without a byte either way (default 300s;
                           0: never)
  --header-timeout MS      close a client that sends no byte within MS (default: no limit); it
                           waits without holding a --max-connections slot
  --drain-timeout MS       how long open connections may go on after a stop signal (default
                           5000; --drain-ms is the old name)
  --backlog N              listen(2) backlog (default 1024)
  --mode OCTAL             the --listen Unix socket file's permission bits (e.g. 660)
  --send-proxy VERSION     send the target a PROXY protocol header (v1 or v2) first, saying
                           whom each connection is from, as a load balancer does
${serverTlsHelp}
${clientTlsHelp("--to-tls")}
  --json                   print the lines as JSON objects
  -q, --quiet              no line per connection
  -h, --help               show this help

Examples:
  weir proxy --listen 8080 --to unix:/run/app.sock
  weir proxy --listen tcp:127.0.0.1:0 --to localhost:7000 --max-connections 100
  weir proxy --listen 8443 --to 8080 --tls-cert server.crt --tls-key server.key
  weir proxy --listen 7000 --to example.com:443 --to-tls`;

const options = {
  listen: { type: "string" },
  to: { type: "string" },
  "max-connections": { type: "string" },
  "connect-timeout": { type: "string" },
  "connect-timeout-ms": { type: "string" },
  ...deadlineFlags,
  backlog: { type: "string" },
  mode: { type: "string" },
  "send-proxy": { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  ...serverTlsFlags,
  "to-tls": { type: "boolean" },
  ca: clientTlsFlags.ca,
  insecure: clientTlsFlags.insecure,
} as const;

/** How a forwarded connection ended. */
type End = "closed" | "connect-failed" | "error" | "idle-timeout" | "shutdown";

/** The proxy's idle timeout when not told (HAProxy's documentation asks for one, always). */
const DEFAULT_IDLE_MS = 300_000;

/** The record of one forwarded connection, printed when it ends. */
interface ConnectionRecord {
  peer: string;
  target: string;
  up: number;
  down: number;
  ms: number;
  end: End;
  error?: string;
}

/** `src` counting the bytes read from it. */
function counting(src: Source, add: (n: number) => void): Source {
  const readChunk = src.readChunk?.bind(src);
  return {
    async readInto(buf, opts) {
      const n = await src.readInto(buf, opts);
      add(n);
      return n;
    },
    ...(readChunk === undefined
      ? {}
      : {
          async readChunk(opts) {
            const c = await readChunk(opts);
            add(c.length);
            return c;
          },
        }),
  };
}

/** Copies `src` to `dst`, then half-closes `dst`; an IoError gets the direction as context. */
async function forward(
  src: Source,
  dst: Sink & Pick<StreamSocket, "shutdown">,
  direction: string,
): Promise<void> {
  try {
    await Flow.copy(src, dst);
    await dst.shutdown("send");
  } catch (e) {
    if (e instanceof IoError) e.addContext(`copying ${direction}`);
    throw e;
  }
}

/** Tells `target` whom `client` is: a PROXY header (the client's address, the one it reached). */
async function sendProxyHeader(
  version: "v1" | "v2",
  client: StreamSocket,
  peer: StreamAddr,
  target: StreamSocket,
): Promise<void> {
  const header = {
    version: version === "v1" ? (1 as const) : (2 as const),
    command: "PROXY" as const,
    source: peer,
    destination: client.localAddr,
    tlvs: [],
  };
  await target.write([version === "v1" ? encodeV1(header) : encodeV2(header)]);
}

function formatRecord(r: ConnectionRecord): string {
  const how =
    r.end === "closed"
      ? "closed"
      : r.end === "shutdown"
        ? "closed at shutdown"
        : r.end === "connect-failed"
          ? `connect failed: ${r.error}`
          : r.end === "idle-timeout"
            ? "closed: idle timeout"
            : `failed: ${r.error}`;
  return `${r.peer} -> ${r.target}: ${r.up} B up, ${r.down} B down, ${r.ms.toFixed(1)} ms, ${how}`;
}

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommand(args, options, [0, 0]);
  if (values.listen === undefined) throw new UsageError("missing --listen ADDR");
  if (values.to === undefined) throw new UsageError("missing --to ADDR");
  const listenEp = parseEndpoint("--listen", values.listen, "listen");
  const toEp = parseEndpoint("--to", values.to, "connect");
  const maxConnections =
    values["max-connections"] === undefined
      ? undefined
      : intOption("max-connections", values["max-connections"], 0, { min: 1, max: 1_000_000 });
  if (values["connect-timeout"] !== undefined && values["connect-timeout-ms"] !== undefined) {
    throw new UsageError(
      "--connect-timeout-ms is the old name of --connect-timeout: give one of them",
    );
  }
  const connectName =
    values["connect-timeout-ms"] === undefined ? "connect-timeout" : "connect-timeout-ms";
  const timeoutMs = durationOption(
    connectName,
    values["connect-timeout"] ?? values["connect-timeout-ms"],
    10_000,
    { bareUnit: "ms", minMs: 1, maxMs: 3_600_000 },
  );
  const { idleTimeout, headerTimeout, drainMs } = deadlineOptions(values, {
    idleMs: DEFAULT_IDLE_MS,
  });
  const backlog = intOption("backlog", values.backlog, 1024, { min: 0, max: 65535 });
  const mode = modeOption(values.mode, listenEp);
  const sendProxy =
    values["send-proxy"] === undefined
      ? undefined
      : choiceOption<"v1" | "v2">("send-proxy", values["send-proxy"], "v1", ["v1", "v2"]);
  const tls = serverTls(values);
  const toTls = clientTls(values, values["to-tls"] === true, "--to-tls");
  const json = values.json === true;
  const quiet = values.quiet === true;
  const status = (line: string): void => {
    if (json) io.out(JSON.stringify({ event: "status", message: line }));
    else io.err(`weir proxy: ${line}`);
  };
  const report = (r: ConnectionRecord): void => {
    if (quiet) return;
    io.out(json ? JSON.stringify({ event: "connection", ...r }) : formatRecord(r));
  };

  using signals = new StopSignals();
  await run(async (env) => {
    const clock = env.monoClock;
    const addr = await listenAddress(env.net, listenEp);
    let open = 0;
    const handler = async (client: StreamSocket, peer: StreamAddr): Promise<void> => {
      open++;
      const t0 = clock.now();
      const rec: ConnectionRecord = {
        peer: Sockaddr.format(peer),
        target: formatEndpoint(toEp),
        up: 0,
        down: 0,
        ms: 0,
        end: "closed",
      };
      let connected = false;
      try {
        const connectOpts = { clock, timeoutMs, tls: toTls, idleTimeout };
        await withConnection(env.net, toEp, connectOpts, async (target) => {
          connected = true;
          rec.target = Sockaddr.format(target.peerAddr);
          if (sendProxy !== undefined) await sendProxyHeader(sendProxy, client, peer, target);
          await Fiber.both(
            () =>
              forward(
                counting(client, (n) => {
                  rec.up += n;
                }),
                target,
                "client to target",
              ),
            () =>
              forward(
                counting(target, (n) => {
                  rec.down += n;
                }),
                client,
                "target to client",
              ),
          );
        });
      } catch (e) {
        if (isCancelled(e)) rec.end = "shutdown";
        else if (isIoError(e, "Timeout")) {
          rec.end = "idle-timeout";
          rec.error = describeErrorOneLine(e);
        } else {
          rec.end = connected ? "error" : "connect-failed";
          rec.error = describeErrorOneLine(e);
        }
        // the line below says what happened: the error is not reported again
        if (isCancelled(e)) throw e;
      } finally {
        open--;
        rec.ms = clock.now() - t0;
        report(rec);
      }
    };
    await Switch.run(async (sw) => {
      const listener = await env.net.listen(addr, {
        sw,
        backlog,
        reuseAddr: true,
        mode,
        ...(tls === undefined ? {} : { tls }),
      });
      const where = Sockaddr.format(listener.listeningAddr);
      io.out(
        json ? JSON.stringify({ event: "listening", address: where }) : `listening on ${where}`,
      );
      await serveUntilStopped({
        listener,
        handler,
        onError: (e) => status(describeErrorOneLine(e)),
        maxConnections,
        drainMs,
        idleTimeout,
        headerTimeout,
        clock,
        signals,
        status,
        openConnections: () => open,
      });
    });
  });
  status("stopped");
  return 0;
}

/** `weir proxy`. */
export const proxy: Command = { help: HELP, main };
