/**
 * `SimulatedFailure` (Eio's `Eio_mock.Simulated_failure`).
 * @module
 */

/**
 * A fake backend error, to put as the `cause` of an `IoError` a mock raises.
 * @example
 * ```ts
 * const refused = new IoError({
 *   kind: "ConnectionFailure",
 *   reason: "Refused",
 *   cause: new Mock.SimulatedFailure(),
 * });
 * Mock.Net.onConnect(net, [{ raise: refused }]);
 * ```
 */
export class SimulatedFailure extends Error {
  constructor(message = "Simulated failure") {
    super(message);
    this.name = "SimulatedFailure";
  }
}
