/**
 * One server, written once against `Tcp`: it answers each line with the line upper-cased
 * ("bye" ends the conversation). `mock.test.ts` drives it on `weir/mock`, and on real sockets.
 */
import type { Clock } from "../../src/core/index.ts";
import type { Net } from "../../src/net/types.ts";
import { Tcp, type TcpServer } from "../../src/tcp/index.ts";
import type { WhereToListen } from "../../src/tcp/where-to-listen.ts";

/** Starts the shout server on `where`, with `net` and `clock`. */
export function startShoutServer(
  net: Net,
  clock: Clock,
  where: WhereToListen = Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
  opts: { maxConnections?: number } = {},
): Promise<TcpServer> {
  return Tcp.Server.create(
    where,
    async (_addr, reader, writer) => {
      for await (const line of reader.lines()) {
        if (line === "bye") break;
        writer.writeLine(line.toUpperCase());
      }
      writer.writeLine("BYE");
    },
    { net, clock, onHandlerError: "raise", ...opts },
  );
}
