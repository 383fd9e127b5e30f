/**
 * The child process of the EMFILE test (`real-accept.test.ts`): an echo server on `run` +
 * `runServer`, started with a low `ulimit -n`. Prints `LISTENING <port>`; on a line `stats` on
 * stdin prints `STATS acceptErrors=N dropped=N`; stops gracefully when stdin ends.
 */
import { createInterface } from "node:readline";
import { NodeListeningSocket } from "../../src/backend-node/listening-socket.ts";
import { Switch } from "../../src/core/index.ts";
import { copy } from "../../src/flow/flow-ops.ts";
import { runServer } from "../../src/net/run-server.ts";
import { run } from "../../src/run.ts";

let stopResolve: (v: string) => void = () => {};
const stop = new Promise<string>((resolve) => {
  stopResolve = resolve;
});
let listener: NodeListeningSocket | undefined;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "stats" && listener !== undefined) {
    process.stdout.write(
      `STATS acceptErrors=${listener.acceptErrors} dropped=${listener.droppedConnections} ` +
        `last=${listener.lastAcceptError?.message.split("\n")[0] ?? "none"}\n`,
    );
  }
});
lines.on("close", () => stopResolve("stopped"));

const result = await run((env) =>
  Switch.run(async (sw) => {
    const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 512 });
    if (!(l instanceof NodeListeningSocket)) throw new Error("not a NodeListeningSocket");
    listener = l;
    const a = l.listeningAddr;
    process.stdout.write(`LISTENING ${a.type === "tcp" ? a.port : 0}\n`);
    return runServer(
      l,
      async (flow) => {
        await copy(flow, flow);
        await flow.shutdown("send");
      },
      { onError: () => {}, stop },
    );
  }),
);
process.stdout.write(`DONE ${result}\n`);
