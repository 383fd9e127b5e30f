/**
 * `weir echo [ADDR]`: an echo server on `Net.runServer`.
 * @module
 */
import { BroadcastChannel } from "node:worker_threads";
import { Switch } from "../core/index.ts";
import { Sockaddr, type StreamAddr, type StreamSocket } from "../net/index.ts";
import { run } from "../run.ts";
import { Unix } from "../unix/index.ts";
import {
  choiceOption,
  intOption,
  modeOption,
  parseCommand,
  parseEndpoint,
  UsageError,
} from "./args.ts";
import type { Command, CommandIo } from "./command.ts";
import { domainServer } from "./domains.ts";
import echoHandler, {
  CONNECTIONS_CHANNEL,
  type ConnectionEvent,
  echoHandlerModule,
} from "./echo-handler.ts";
import { echoSystemd } from "./echo-systemd.ts";
import { listenAddress } from "./endpoint.ts";
import { describeError } from "./errors.ts";
import { deadlineFlags, deadlineOptions, serveUntilStopped } from "./serve.ts";
import { StopSignals } from "./signals.ts";
import { serverTls, serverTlsFlags, serverTlsHelpAt } from "./tls-flags.ts";

const HELP = `Usage: weir echo [ADDR] [options]

An echo server: sends every byte back to its sender, and half-closes when the client does.
The first line on stdout is "listening on ADDR" (with the port the OS chose for port 0).
SIGINT or SIGTERM stops it gracefully: no new connections, the open ones get --drain-ms to
finish, then the rest are closed; exit status 0. A second signal closes them at once.

ADDR  where to listen (default tcp:127.0.0.1:0): tcp:HOST:PORT, unix:PATH, HOST:PORT,
      [IPV6]:PORT, PORT (on 127.0.0.1) or a path starting with / or ./

Options:
  --max-connections N  serve at most N connections at once (no accept while full)
  --domains N          also accept in N worker threads (SO_REUSEPORT; TCP only; default 0)
  --drain-timeout MS   how long open connections may go on after a stop signal (default 5000;
                       --drain-ms is the old name)
  --idle-timeout MS    close a connection after MS without a byte either way (default: never;
                       units: 500ms, 30s, 5m)
  --header-timeout MS  close a new connection that has not sent a byte within MS; it waits
                       without holding a --max-connections slot (default: no limit)
  --backlog N          listen(2) backlog (default 1024)
  --mode OCTAL         a Unix socket file's permission bits (e.g. 660; default: the umask's)
  --proxy-protocol V   behind a load balancer: each connection starts with a PROXY header
                       (v1, v2 or any); -v then logs the client, not the balancer
  --systemd            serve the sockets systemd passed (socket activation: LISTEN_FDS),
                       stream and datagram, instead of listening on ADDR
  --handover PATH      restart without a dropped connection: take the listening socket over
                       from the weir echo offering it at the Unix socket PATH (if any; else
                       listen on ADDR), then offer it there to the next one; when a new one
                       takes it over, stop accepting and drain as for a stop signal
${serverTlsHelpAt(21)}
  --json               print events as JSON lines instead of text
  -v, --verbose        log every connection on stderr
  -h, --help           show this help

Examples:
  weir echo                      # on an OS-chosen port of 127.0.0.1
  weir echo 7000 --domains 1     # two threads on tcp:127.0.0.1:7000
  weir echo unix:/tmp/echo.sock
  weir echo 8443 --tls-cert server.crt --tls-key server.key
  systemd-socket-activate -l 7000 weir echo --systemd
  weir echo 7000 --handover /run/echo.handover   # run again: the new one takes over`;

const options = {
  "max-connections": { type: "string" },
  domains: { type: "string" },
  ...deadlineFlags,
  backlog: { type: "string" },
  mode: { type: "string" },
  "proxy-protocol": { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  systemd: { type: "boolean" },
  handover: { type: "string" },
  ...serverTlsFlags,
} as const;

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommand(args, options, [0, 1]);
  const ep = parseEndpoint("ADDR", positionals[0] ?? "tcp:127.0.0.1:0", "listen");
  const maxConnections =
    values["max-connections"] === undefined
      ? undefined
      : intOption("max-connections", values["max-connections"], 0, { min: 1, max: 1_000_000 });
  const domains = intOption("domains", values.domains, 0, { min: 0, max: 64 });
  const { idleTimeout, headerTimeout, drainMs } = deadlineOptions(values, {});
  if (domains > 0 && (idleTimeout !== undefined || headerTimeout !== undefined)) {
    throw new UsageError("--domains cannot go with --idle-timeout or --header-timeout yet");
  }
  if (domains > 0 && ep.kind === "addr" && ep.addr.type === "unix") {
    throw new UsageError(
      `--domains needs a TCP address (worker threads share its port), got ${Sockaddr.format(ep.addr)}`,
    );
  }
  const backlog = intOption("backlog", values.backlog, 1024, { min: 0, max: 65535 });
  const tls = serverTls(values);
  if (tls !== undefined && domains > 0) {
    throw new UsageError("--domains cannot go with --tls-cert (worker threads serve plain TCP)");
  }
  const mode = modeOption(values.mode, ep);
  const proxyProtocol =
    values["proxy-protocol"] === undefined
      ? undefined
      : choiceOption<"v1" | "v2" | "any">("proxy-protocol", values["proxy-protocol"], "any", [
          "v1",
          "v2",
          "any",
        ]);
  if (proxyProtocol !== undefined && (domains > 0 || tls !== undefined)) {
    throw new UsageError("--proxy-protocol cannot go with --domains or --tls-cert (yet)");
  }
  const systemd = values.systemd === true;
  const handover = values.handover;
  if (systemd && positionals[0] !== undefined) {
    throw new UsageError("--systemd serves the sockets systemd passed: give no ADDR");
  }
  if (
    (systemd || handover !== undefined) &&
    (domains > 0 || tls !== undefined || proxyProtocol !== undefined)
  ) {
    throw new UsageError(
      `--${systemd ? "systemd" : "handover"} cannot go with --domains, --tls-cert or --proxy-protocol (yet)`,
    );
  }
  if (systemd && handover !== undefined) {
    throw new UsageError("--systemd and --handover: give one of them");
  }
  if (handover === "") throw new UsageError("--handover needs a PATH");
  const json = values.json === true;
  const verbose = values.verbose === true;
  const event = (name: string, text: string, fields: Record<string, unknown>): void => {
    io.out(json ? JSON.stringify({ event: name, ...fields }) : text);
  };
  const status = (line: string): void => {
    if (json) io.out(JSON.stringify({ event: "status", message: line }));
    else io.err(`weir echo: ${line}`);
  };

  using signals = new StopSignals();
  await run(async (env) => {
    const addr = await listenAddress(env.net, ep);
    const domainsOpt =
      domains > 0 ? domainServer(env.domainMgr, domains, echoHandlerModule) : undefined;
    let open = 0;
    // the worker threads' connections, reported by their handlers (see echo-handler.ts)
    const reports = domains > 0 ? new BroadcastChannel(CONNECTIONS_CHANNEL) : undefined;
    if (reports !== undefined) {
      reports.onmessage = (m: unknown): void => {
        const ev = (m as { data: ConnectionEvent }).data;
        open += ev.delta;
        if (verbose && ev.delta === 1) {
          status(`connection from ${ev.peer ?? "?"} (worker thread ${ev.thread})`);
        }
      };
    }
    await using _reports = { [Symbol.asyncDispose]: async () => reports?.close() };
    await Switch.run(async (sw) => {
      const handler = async (flow: StreamSocket, peer: StreamAddr): Promise<void> => {
        open++;
        if (verbose) status(`connection from ${Sockaddr.format(peer)}`);
        try {
          await echoHandler(flow, peer);
        } finally {
          open--;
        }
      };
      const serveOpts = {
        handler,
        onError: (e: unknown) => {
          if (verbose) status(describeError(e));
        },
        maxConnections,
        drainMs,
        idleTimeout,
        headerTimeout,
        clock: env.monoClock,
        openConnections: () => open,
      };
      if (systemd) {
        await echoSystemd({ sw, backlog, signals, event, status, serve: serveOpts });
        return;
      }
      const taken = handover === undefined ? undefined : await Unix.takeOver(handover, { sw });
      if (taken !== undefined) {
        // this process already takes the connections (they wait for the loop in its queue)
        await taken.ready();
        status(`took over from pid ${taken.pid}`);
      }
      const listener =
        taken?.listeners[0] ??
        (await env.net.listen(addr, {
          sw,
          backlog,
          reuseAddr: true,
          reusePort: domains > 0,
          ...(tls === undefined ? {} : { tls }),
          ...(proxyProtocol === undefined ? {} : { proxyProtocol }),
          mode,
        }));
      const offer =
        handover === undefined ? undefined : await Unix.offerHandover(handover, [listener], { sw });
      const where = Sockaddr.format(listener.listeningAddr);
      event("listening", `listening on ${where}`, { address: where, domains });
      await serveUntilStopped({
        ...serveOpts,
        listener,
        signals,
        status,
        domains: domainsOpt,
        handedOver: offer?.handedOver,
      });
    });
  });
  status("stopped");
  return 0;
}

/** `weir echo`. */
export const echo: Command = { help: HELP, main };
