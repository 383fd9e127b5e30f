/**
 * `weir/mock` (Eio's `Eio_mock`): a deterministic backend with mock clocks, and scripted,
 * traced networks, sockets, flows and domain managers, for testing servers and clients
 * without real sockets or real time.
 * @example
 * ```ts
 * import { Mock } from "weir/mock";
 * const lines: string[] = [];
 * await Mock.Backend.run(async () => {
 *   const flow = Mock.Flow.make("flow");
 *   Mock.Flow.onRead(flow, [{ return: "Hi" }]);
 *   await flow.readInto(new Uint8Array(10));
 * }, { onTrace: (l) => lines.push(l) });
 * // lines: ['flow: read "Hi"']
 * ```
 * @module
 */
import { Action } from "./action.ts";
import { Backend } from "./backend.ts";
import { Clock } from "./clock.ts";
import { DomainManager } from "./domain-manager.ts";
import { Flow } from "./flow.ts";
import { Handler } from "./handler.ts";
import { Net } from "./net.ts";
import { DeadlockDetected } from "./scheduler.ts";
import { SimulatedFailure } from "./simulated-failure.ts";
import { quote } from "./trace.ts";

export type { Action as MockAction } from "./action.ts";
export type { MockEnv, RunOptions } from "./backend.ts";
export type { MockClock } from "./clock.ts";
export type { MockDomainManager } from "./domain-manager.ts";
export type { MockFlow, MockFlowOptions } from "./flow.ts";
export type { PairOptions, StreamSocketPair } from "./flow-pair.ts";
export type { Handler as MockHandler, ScriptOptions } from "./handler.ts";
export type {
  AcceptResult,
  MockListeningSocket,
  MockListeningSocketOptions,
  MockNet,
} from "./net.ts";
export { DeadlockDetected, SimulatedFailure };

/**
 * The mocks: `Mock.Backend` (run, runFull), `Mock.Net`, `Mock.Flow`, `Mock.Clock`,
 * `Mock.DomainManager`, `Mock.Action` and `Mock.Handler` (for custom mocks),
 * `Mock.SimulatedFailure`, `Mock.DeadlockDetected`, and `Mock.quote` (the trace quoting).
 */
export const Mock = {
  Backend,
  Net,
  Flow,
  Clock,
  DomainManager,
  Action,
  Handler,
  SimulatedFailure,
  DeadlockDetected,
  quote,
};
