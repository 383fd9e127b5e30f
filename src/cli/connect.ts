/**
 * `weir connect ADDR`: `nc`-style client: standard input to the socket, the socket to
 * standard output.
 * @module
 */
import { Sockaddr } from "../net/index.ts";
import { run } from "../run.ts";
import { durationOption, parseCommand, parseEndpoint } from "./args.ts";
import type { Command, CommandIo } from "./command.ts";
import { withConnection } from "./endpoint.ts";
import { processStdio, pump } from "./stdio.ts";
import { clientTls, clientTlsFlags, clientTlsHelp } from "./tls-flags.ts";

const HELP = `Usage: weir connect ADDR [options]

Connects to ADDR, copies standard input to the socket and the socket to standard output.
When standard input ends, the socket is half-closed (the peer reads end-of-file) and output
goes on until the peer closes its side. When the peer closes its side first, the rest of
standard input is still sent, until it ends or stays quiet for 250 ms. Exit status 0 when
the peer has closed and all input that came was sent, 1 if the connection fails (refused,
timed out, reset: input may be left unsent).

ADDR  tcp:HOST:PORT, unix:PATH, HOST:PORT (a name is looked up and each address tried),
      [IPV6]:PORT, PORT (on 127.0.0.1) or a path starting with / or ./

Options:
  --connect-timeout-ms MS  give up each connection attempt after MS ms (default 10000)
${clientTlsHelp("--tls")}
  -v, --verbose            say on stderr where the connection goes
  -h, --help               show this help

Examples:
  printf 'hello\\n' | weir connect 127.0.0.1:7000
  weir connect localhost:8443 --tls --ca ca.crt
  weir connect unix:/tmp/echo.sock < request.bin > reply.bin`;

const options = {
  "connect-timeout-ms": { type: "string" },
  ...clientTlsFlags,
  verbose: { type: "boolean", short: "v" },
} as const;

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommand(args, options, [1, 1]);
  const ep = parseEndpoint("ADDR", positionals[0] as string, "connect");
  const timeoutMs = durationOption("connect-timeout-ms", values["connect-timeout-ms"], 10_000, {
    bareUnit: "ms",
    minMs: 1,
    maxMs: 3_600_000,
  });
  const tls = clientTls(values, values.tls === true, "--tls");
  await run(async (env) => {
    await withConnection(env.net, ep, { clock: env.monoClock, timeoutMs, tls }, async (conn) => {
      if (values.verbose === true) {
        io.err(
          `weir connect: connected to ${Sockaddr.format(conn.peerAddr)} from ${Sockaddr.format(conn.localAddr)}`,
        );
      }
      await pump(conn, processStdio(), { clock: env.monoClock });
    });
  });
  return 0;
}

/** `weir connect`. */
export const connect: Command = { help: HELP, main };
