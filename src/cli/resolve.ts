/**
 * `weir resolve HOST [SERVICE]`: getaddrinfo, and the getnameinfo of each address.
 * @module
 */
import { Fiber } from "../core/index.ts";
import { Sockaddr, type TcpAddr, type UdpAddr } from "../net/index.ts";
import { run } from "../run.ts";
import { parseCommand, UsageError } from "./args.ts";
import type { Command, CommandIo } from "./command.ts";
import { describeErrorOneLine } from "./errors.ts";

const HELP = `Usage: weir resolve HOST [SERVICE] [options]

Looks HOST up with getaddrinfo (SERVICE: a port number or a name from /etc/services,
default 0) and prints each address with its getnameinfo (the host and service names the
reverse lookup gives). Exit status 1 if the lookup fails; a failed reverse lookup is shown
on its line.

Options:
  --tcp         only stream (TCP) addresses
  --udp         only datagram (UDP) addresses
  --no-reverse  skip the getnameinfo lookups
  --json        print one JSON object
  -h, --help    show this help

Examples:
  weir resolve localhost http
  weir resolve 127.0.0.1 443 --json`;

const options = {
  tcp: { type: "boolean" },
  udp: { type: "boolean" },
  reverse: { type: "boolean", default: true },
  json: { type: "boolean" },
} as const;

/** One line of the result. */
interface Row {
  readonly addr: TcpAddr | UdpAddr;
  name?: string;
  service?: string;
  error?: string;
}

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommand(args, options, [1, 2]);
  const host = positionals[0] as string;
  const service = positionals[1] ?? "0";
  if (host === "") throw new UsageError(`HOST must not be empty, got ""`);
  if (/^[0-9]+$/.test(service) && Number(service) > 65535) {
    throw new UsageError(
      `SERVICE must be a port in 0..65535 or a name, got ${JSON.stringify(service)}`,
    );
  }
  if (service === "") throw new UsageError(`SERVICE must not be empty, got ""`);
  if (values.tcp === true && values.udp === true) {
    throw new UsageError("--tcp and --udp exclude each other: give at most one");
  }
  const rows = await run(async (env) => {
    const all = await env.net.getaddrinfo(host, { service });
    const addrs = all.filter(
      (a): a is TcpAddr | UdpAddr =>
        a.type !== "unix" &&
        (values.tcp === true ? a.type === "tcp" : values.udp === true ? a.type === "udp" : true),
    );
    const rows: Row[] = addrs.map((addr) => ({ addr }));
    if (values.reverse !== false) {
      await Fiber.all(
        rows.map((row) => async () => {
          try {
            [row.name, row.service] = await env.net.getnameinfo(row.addr);
          } catch (e) {
            row.error = describeErrorOneLine(e);
          }
        }),
      );
    }
    return rows;
  });
  if (values.json === true) {
    io.out(
      JSON.stringify({
        host,
        service,
        addresses: rows.map((r) => ({
          address: Sockaddr.format(r.addr),
          type: r.addr.type,
          family: r.addr.host.family,
          ip: r.addr.host.toString(),
          port: r.addr.port,
          ...(r.name === undefined ? {} : { name: r.name, nameService: r.service }),
          ...(r.error === undefined ? {} : { reverseError: r.error }),
        })),
      }),
    );
    return 0;
  }
  if (rows.length === 0) {
    io.out(
      `${host}: no ${values.udp === true ? "UDP" : values.tcp === true ? "TCP" : ""} addresses`.replace(
        "  ",
        " ",
      ),
    );
    return 0;
  }
  const width = Math.max(...rows.map((r) => Sockaddr.format(r.addr).length));
  for (const r of rows) {
    const a = Sockaddr.format(r.addr).padEnd(width);
    if (r.error !== undefined) io.out(`${a}  (getnameinfo failed: ${r.error})`);
    else if (r.name !== undefined) io.out(`${a}  ${r.name} ${r.service}`);
    else io.out(a.trimEnd());
  }
  return 0;
}

/** `weir resolve`. */
export const resolve: Command = { help: HELP, main };
