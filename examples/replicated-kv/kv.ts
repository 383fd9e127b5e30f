/**
 * A small replicated key-value store: a leader that clients write to, and a follower that the
 * leader replicates every write to, which clients read from when the leader is gone (failover).
 * Written against `Tcp` only (nothing here knows of the simulation): on real machines each role
 * would run in its own `run()`; the test runs them, unchanged, as hosts of `weir/sim`.
 *
 * Protocol (one line each way): `SET key value` -> `OK`; `GET key` -> the value, or `NIL`.
 * The leader takes both; the follower serves `GET` on the client port and `SET` from the
 * leader on the replication port.
 *
 * The bug the simulation finds (`kv.test.ts`): with `replication: "async"` the leader answers
 * `OK` before the follower has the write, so a write acknowledged just before the leader
 * crashes, or while the link to the follower is partitioned, is lost at failover.
 * `replication: "sync"` answers only once the follower has acknowledged it.
 */
import { Fiber } from "../../src/core/index.ts";
import { Tcp, type TcpReader, type TcpServer, type TcpWriter } from "../../src/tcp/index.ts";

/** The port clients use, on the leader and on the follower. */
export const clientPort = 6000;
/** The follower's port for the leader's replication stream. */
export const replicationPort = 6001;

/** When the leader answers a SET. */
export type Replication = "async" | "sync";

type Store = Map<string, string>;

/** Answers one client line against `store`; `onSet` replicates (and may wait for it). */
async function answer(line: string, store: Store, onSet?: (k: string, v: string) => Promise<void>) {
  const [cmd, key, ...rest] = line.split(" ");
  if (cmd === "GET" && key !== undefined) return store.get(key) ?? "NIL";
  if (cmd === "SET" && key !== undefined && onSet !== undefined) {
    const value = rest.join(" ");
    store.set(key, value);
    await onSet(key, value);
    return "OK";
  }
  return `ERR bad command: ${JSON.stringify(line)}`;
}

function serve(port: number, handle: (line: string) => Promise<string>): Promise<TcpServer> {
  return Tcp.Server.create(
    Tcp.WhereToListen.onPort(port),
    async (_addr, reader: TcpReader, writer: TcpWriter) => {
      for await (const line of reader.lines()) writer.writeLine(await handle(line));
    },
    { onHandlerError: "ignore" },
  );
}

/**
 * The leader: serves clients on {@link clientPort} and replicates each SET to the follower at
 * `follower` over one connection, in order.
 */
export async function leader(follower: string, replication: Replication): Promise<void> {
  const store: Store = new Map();
  const repl = await Tcp.connect(Tcp.WhereToConnect.hostAndPort(follower, replicationPort));
  const acks: Array<() => void> = [];
  // Reads the follower's acknowledgements, one per replicated write, in order.
  const reading = (async () => {
    while ((await repl.reader.readLine()) !== null) acks.shift()?.();
  })();
  const replicate = (k: string, v: string): Promise<void> => {
    const acked = new Promise<void>((resolve) => acks.push(resolve));
    repl.writer.writeLine(`SET ${k} ${v}`);
    // The bug: "async" answers the client before the follower has the write.
    return replication === "sync" ? acked : Promise.resolve();
  };
  const server = await serve(clientPort, (line) => answer(line, store, replicate));
  await Fiber.both(
    () => server.closeFinished,
    () => reading,
  );
}

/** The follower: applies the leader's writes (port {@link replicationPort}), serves GETs. */
export async function follower(): Promise<void> {
  const store: Store = new Map();
  const fromLeader = await serve(replicationPort, (line) => answer(line, store, async () => {}));
  const clients = await serve(clientPort, (line) =>
    line.startsWith("GET ") ? answer(line, store) : Promise.resolve("ERR read-only"),
  );
  await Fiber.both(
    () => fromLeader.closeFinished,
    () => clients.closeFinished,
  );
}

/** Sends one command to the store at `host` and returns the answer line. */
export function request(host: string, line: string): Promise<string> {
  return Tcp.withConnection(
    Tcp.WhereToConnect.hostAndPort(host, clientPort),
    async ({ reader, writer }) => {
      writer.writeLine(line);
      return (await reader.readLine()) ?? "(connection closed)";
    },
  );
}
