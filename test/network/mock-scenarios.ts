/**
 * The mock cases of Eio's network.md ("with_tcp_connet", "Accept_fork error handling",
 * "run_server"), translated line by line. The seed tests run each once and compare the whole
 * transcript; the determinism test runs each 20 times.
 */
import { EndOfFile, Fiber, IoError, Switch, Timeout, traceln } from "../../src/core/index.ts";
import { Flow } from "../../src/flow/index.ts";
import { Mock, type MockAction, type MockEnv } from "../../src/mock/index.ts";
import { Ipaddr, Net, Sockaddr, type StreamAddr, type StreamSocket } from "../../src/net/index.ts";
import { promiseWithResolvers, show } from "./mock-support.ts";

/** A transcript case: runs on `Mock.Backend.runFull`. */
export type Scenario = (env: MockEnv) => Promise<unknown>;

const unreachable = (): never => {
  throw new Error("unreachable: the handler must not run");
};

const rethrow = (e: unknown): never => {
  throw e;
};

// --- with_tcp_connet ---------------------------------------------------------------------

const addr1 = Sockaddr.tcp(Ipaddr.V4.loopback, 80);
const addr2 = Sockaddr.tcp(Ipaddr.ofRaw("\x01\x02\x03\x04"), 8080);
const connectionFailure = new IoError({
  kind: "ConnectionFailure",
  reason: "Refused",
  cause: new Mock.SimulatedFailure(),
});
const host = { host: "www.example.com", service: "http" };
const request = "GET / HTTP/1.1\r\nHost:www.example.com:80\r\n\r\n";
const sendRequest = (conn: StreamSocket): Promise<void> => Flow.copyString(request, conn);

/** `Net.withTcpConnect` on a mock network. */
export const withTcpConnect = {
  async noUsableAddresses(): Promise<void> {
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: [Sockaddr.unix("/foo")] }]);
    await Net.withTcpConnect(net, host, unreachable);
  },

  async firstAddressWorks(): Promise<void> {
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: [addr1, addr2] }]);
    const mockFlow = Mock.Flow.make("flow");
    Mock.Net.onConnect(net, [{ return: mockFlow }]);
    await Net.withTcpConnect(net, host, sendRequest);
  },

  async secondAddressWorks(): Promise<void> {
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: [addr1, addr2] }]);
    const mockFlow = Mock.Flow.make("flow");
    Mock.Net.onConnect(net, [{ raise: connectionFailure }, { return: mockFlow }]);
    await Net.withTcpConnect(net, host, sendRequest);
  },

  async bothAddressesFail(): Promise<void> {
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: [addr1, addr2] }]);
    Mock.Net.onConnect(net, [{ raise: connectionFailure }, { raise: connectionFailure }]);
    await Net.withTcpConnect(net, host, unreachable);
  },

  async firstAttemptTimesOut(env: MockEnv): Promise<void> {
    const timeout = Timeout.ms(env.monoClock, 10_000);
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: [addr1, addr2] }]);
    const mockFlow = Mock.Flow.make("flow");
    Mock.Net.onConnect(net, [{ run: Fiber.awaitCancel }, { return: mockFlow }]);
    await Net.withTcpConnect(net, { ...host, timeout }, sendRequest);
  },

  async bothAttemptsTimeOut(env: MockEnv): Promise<void> {
    const timeout = Timeout.ms(env.monoClock, 10_000);
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: [addr1, addr2] }]);
    Mock.Net.onConnect(net, [{ run: Fiber.awaitCancel }, { run: Fiber.awaitCancel }]);
    await Net.withTcpConnect(net, { ...host, timeout }, unreachable);
  },
} satisfies Record<string, Scenario>;

// --- Accept_fork error handling ----------------------------------------------------------

function mockSocket() {
  const socket = Mock.Net.listeningSocket("tcp/80");
  const flow = Mock.Flow.make("connection");
  const addr = Sockaddr.tcp(Ipaddr.V4.loopback, 1234);
  Mock.Net.onAccept(socket, [{ return: [flow, addr] }]);
  return socket;
}

/** `acceptFork` on a mock listening socket. */
export const acceptFork = {
  async closesOnSuccess(): Promise<void> {
    const socket = mockSocket();
    await Switch.run(async (sw) => {
      await socket.acceptFork({ sw, onError: rethrow }, () => {});
      traceln("Mock connection should have been closed by now");
    });
  },

  async closesOnFailure(): Promise<void> {
    const socket = mockSocket();
    await Switch.run(async (sw) => {
      await socket.acceptFork({ sw, onError: rethrow }, () => {
        throw new Error("Simulated error");
      });
      traceln("Mock connection should have been closed by now");
    });
  },

  async closesWhenForkFails(): Promise<void> {
    const socket = mockSocket();
    await Switch.run(async (sw) => {
      sw.fail(new Error("Simulated error"));
      await socket.acceptFork({ sw, onError: rethrow }, unreachable);
      traceln("Mock connection should have been closed by now");
    });
  },

  async noCancellationToOnError(): Promise<void> {
    const socket = mockSocket();
    await Switch.run(async (sw) => {
      await socket.acceptFork({ sw, onError: (e) => traceln("BUG: %s", show(e)) }, () =>
        Fiber.awaitCancel(),
      );
      sw.fail(new Error("Simulated error"));
    });
  },
} satisfies Record<string, Scenario>;

// --- run_server --------------------------------------------------------------------------

/** A simple connection handler for testing (Eio's `handle_connection`). */
async function handleConnection(flow: StreamSocket, _addr: StreamAddr): Promise<void> {
  const msg = await Flow.readAll(flow, { maxSize: 100 });
  if (msg !== "Hi") throw new Error(`expected "Hi", got ${JSON.stringify(msg)}`);
  await Fiber.yield();
  await Flow.copyString("Bye", flow);
}

/**
 * A mock listening socket that allows accepting `nClients` clients, each of which writes "Hi",
 * and then allows `nDomains` further attempts, none of which ever completes.
 */
function mockListener(nClients: number, nDomains: number) {
  const makeFlow = (i: number) => async (): Promise<readonly [StreamSocket, StreamAddr]> => {
    if (nDomains > 1)
      await Fiber.yield(); // Load balance
    else Fiber.check();
    const flow = Mock.Flow.make(`flow${i}`);
    Mock.Flow.onRead(flow, [{ return: "Hi" }, { raise: new EndOfFile() }]);
    return [flow, Sockaddr.tcp(Ipaddr.V4.loopback, 30000 + i)];
  };
  const listeningSocket = Mock.Net.listeningSocket("tcp/80");
  const actions: MockAction<readonly [StreamSocket, StreamAddr]>[] = [
    ...Array.from({ length: nClients }, (_, i) => ({ run: makeFlow(i) })),
    ...Array.from({ length: nDomains }, () => ({ run: Fiber.awaitCancel })),
  ];
  Mock.Net.onAccept(listeningSocket, actions);
  return listeningSocket;
}

/** `Net.runServer` on a mock listening socket. */
export const runServer = {
  async graceful(): Promise<void> {
    const listeningSocket = mockListener(3, 1);
    const stop = promiseWithResolvers<void>();
    await Fiber.both(
      () =>
        Net.runServer(listeningSocket, handleConnection, {
          maxConnections: 10,
          onError: rethrow,
          stop: stop.promise,
        }),
      () => {
        traceln("Begin graceful shutdown");
        stop.resolve();
      },
    );
  },

  async nonGraceful(): Promise<void> {
    const listeningSocket = mockListener(3, 1);
    await Fiber.both(
      () =>
        Net.runServer(listeningSocket, handleConnection, { maxConnections: 10, onError: rethrow }),
      () => {
        throw new Error("Simulated error");
      },
    );
  },

  threeDomainsGraceful(): Promise<void> {
    return Mock.DomainManager.run(async (fakeDomainMgr) => {
      const nDomains = 3;
      const listeningSocket = mockListener(10, nDomains);
      const stop = promiseWithResolvers<void>();
      await Fiber.both(
        () =>
          Net.runServer(listeningSocket, handleConnection, {
            additionalDomains: [fakeDomainMgr, nDomains - 1],
            maxConnections: 10,
            onError: rethrow,
            stop: stop.promise,
          }),
        async () => {
          await Fiber.yield();
          stop.resolve();
          await Fiber.yield(); // Allow fibers to receive shutdown request
          traceln("Requested graceful shutdown");
        },
      );
    });
  },

  threeDomainsAborting(): Promise<void> {
    return Mock.DomainManager.run(async (fakeDomainMgr) => {
      const nDomains = 3;
      const listeningSocket = mockListener(10, nDomains);
      await Fiber.both(
        () =>
          Net.runServer(listeningSocket, handleConnection, {
            additionalDomains: [fakeDomainMgr, nDomains - 1],
            maxConnections: 10,
            onError: rethrow,
          }),
        async () => {
          await Fiber.yield();
          throw new Error("Simulated error");
        },
      );
    });
  },

  async limitedToTwo(): Promise<void> {
    const listeningSocket = mockListener(10, 1);
    const stop = promiseWithResolvers<void>();
    await Fiber.both(
      () =>
        Net.runServer(listeningSocket, handleConnection, {
          maxConnections: 2,
          onError: rethrow,
          stop: stop.promise,
        }),
      async () => {
        for (let i = 1; i <= 2; i++) await Fiber.yield();
        traceln("Begin graceful shutdown");
        stop.resolve();
      },
    );
  },
} satisfies Record<string, Scenario>;
