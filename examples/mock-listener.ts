/**
 * For the examples' tests: a `weir/mock` listening socket that hands out scripted clients, and a
 * run of a server on it that stops (gracefully) once every client has been accepted.
 * @module
 */
import { Fiber, Ipaddr, type ListeningSocket, Sockaddr } from "weir";
import { Mock, type MockEnv, type MockFlow } from "weir/mock";

/**
 * Runs `serve` on a mock listener (`tcp/PORT`) that accepts `clients(env)` in order (peers
 * `tcp:127.0.0.1:5000`, `5001`, ...), then stops the server, which returns once they are
 * served. Returns the trace of the whole run.
 */
export async function serveMock(
  port: number,
  clients: (env: MockEnv) => MockFlow[],
  serve: (listener: ListeningSocket, env: MockEnv, stop: Promise<void>) => Promise<void>,
): Promise<string[]> {
  const trace: string[] = [];
  await Mock.Backend.runFull(
    async (env) => {
      const stop = Promise.withResolvers<void>();
      const listener = Mock.Net.listeningSocket(`tcp/${port}`);
      Mock.Net.onAccept(listener, [
        ...clients(env).map((c, i) => ({
          return: [c, Sockaddr.tcp(Ipaddr.parse("127.0.0.1"), 5000 + i)] as const,
        })),
        {
          run: () => {
            stop.resolve();
            return Fiber.awaitCancel();
          },
        },
      ]);
      await serve(listener, env, stop.promise);
    },
    { onTrace: (line) => trace.push(line) },
  );
  return trace;
}
