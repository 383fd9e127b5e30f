/**
 * `weir listen ADDR`: `nc -l`-style server: accepts a client, standard input to it, it to
 * standard output; `--keep` serves one client after another.
 * @module
 */
import { awaitCancellable, Fiber, Switch } from "../core/index.ts";
import { Sockaddr } from "../net/index.ts";
import { run } from "../run.ts";
import { modeOption, parseCommand, parseEndpoint } from "./args.ts";
import type { Command, CommandIo } from "./command.ts";
import { listenAddress } from "./endpoint.ts";
import { describeError } from "./errors.ts";
import { StopSignals } from "./signals.ts";
import { processStdio, pump } from "./stdio.ts";
import { serverTls, serverTlsFlags, serverTlsHelpAt } from "./tls-flags.ts";

const HELP = `Usage: weir listen ADDR [options]

Listens on ADDR, accepts one client, copies standard input to it and what it sends to
standard output. When standard input ends, the connection is half-closed; when the client
closes its side, the rest of standard input is still sent (until it ends or stays quiet for
250 ms), then weir exits: status 0 if all of it was sent, 1 if the connection failed first. Standard output carries only the data: the line
"listening on ADDR" (with the port the OS chose for port 0) goes to stderr.

ADDR  tcp:HOST:PORT, unix:PATH, HOST:PORT, [IPV6]:PORT, PORT (on 127.0.0.1) or a path
      starting with / or ./

Options:
  -k, --keep     after a client leaves, wait for the next one (until SIGINT or SIGTERM);
                 standard input goes to the clients in turn
  --mode OCTAL   a Unix socket file's permission bits (e.g. 600; default: the umask's)
  -v, --verbose  say on stderr who connected and how it ended
${serverTlsHelpAt(16)}
  -h, --help     show this help

Examples:
  weir listen tcp:127.0.0.1:7000 > received.bin
  weir listen --keep unix:/tmp/drop.sock
  weir listen 8443 --tls-cert server.crt --tls-key server.key`;

const options = {
  keep: { type: "boolean", short: "k" },
  mode: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  ...serverTlsFlags,
} as const;

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommand(args, options, [1, 1]);
  const ep = parseEndpoint("ADDR", positionals[0] as string, "listen");
  const keep = values.keep === true;
  const mode = modeOption(values.mode, ep);
  const verbose = values.verbose === true;
  const tls = serverTls(values);
  const log = (line: string): void => io.err(`weir listen: ${line}`);
  using signals = new StopSignals();
  await run(async (env) => {
    const addr = await listenAddress(env.net, ep);
    await Switch.run(async (sw) => {
      const listener = await env.net.listen(addr, {
        sw,
        backlog: keep ? 128 : 1,
        reuseAddr: true,
        ...(tls === undefined ? {} : { tls }),
        mode,
      });
      io.err(`listening on ${Sockaddr.format(listener.listeningAddr)}`);
      const stdio = processStdio();
      const serveOne = (): Promise<void> =>
        Switch.run(async (csw) => {
          const [conn, peer] = await listener.accept({ sw: csw });
          // without --keep, one client only: refuse the others at once, as nc does
          if (!keep) await listener.close();
          const who = Sockaddr.format(peer);
          if (verbose) log(`connection from ${who}`);
          try {
            await conn.handshake?.();
            await pump(conn, stdio, { clock: env.monoClock });
            if (verbose) log(`${who} closed`);
          } catch (e) {
            if (!keep) throw e;
            log(`${who}: ${describeError(e)}`);
          }
        });
      await Fiber.first(
        async () => {
          const sig = await awaitCancellable(signals.first);
          if (verbose) log(`${sig}: stopping`);
        },
        async () => {
          do await serveOne();
          while (keep);
        },
      );
    });
  });
  return 0;
}

/** `weir listen`. */
export const listen: Command = { help: HELP, main };
