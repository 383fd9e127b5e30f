/**
 * A mock domain manager (Eio's `Eio_mock.Domain_manager`): "domains" are fibers of the
 * current run, told apart by a `[id] ` trace prefix.
 * @module
 */
import { currentFiber, runInFiber } from "../core/index.ts";
import type { DomainManager as DomainManagerContract } from "../net/index.ts";

/**
 * A domain manager whose domains are fibers sharing this thread (`sharesMemory` is true, so
 * `runServer`'s `additionalDomains` can use it with a closure handler). Each `run` gets the
 * next id (1, 2, ...), and the trace lines of its fibers start with `[id] `.
 * @example
 * ```ts
 * const mgr = Mock.DomainManager.make();
 * await mgr.run(async () => traceln("hello")); // [1] hello
 * ```
 */
export class MockDomainManager implements DomainManagerContract {
  readonly sharesMemory = true;
  #next = 1;

  /** Runs `fn` as a new fake domain (a fiber with the next id as its trace prefix). */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
    const id = this.#next++;
    return runInFiber({ ...currentFiber(), tracePrefix: `[${id}] ` }, async () => await fn());
  }

  /** `MockDomainManager`. */
  toString(): string {
    return "MockDomainManager";
  }
}

/** Mock domain managers. */
export const DomainManager = {
  /**
   * A new mock domain manager (domain ids start at 1).
   * @example
   * ```ts
   * const mgr = Mock.DomainManager.make();
   * ```
   */
  make(): MockDomainManager {
    return new MockDomainManager();
  },

  /**
   * Runs `fn` with a new mock domain manager, as domain 0: its trace lines start with `[0] `,
   * those of the domains it starts with `[1] `, `[2] `, ...
   * @example
   * ```ts
   * await Mock.DomainManager.run(async (mgr) => {
   *   await Net.runServer(listener, handler, { onError, additionalDomains: [mgr, 2] });
   * });
   * ```
   */
  run<T>(fn: (mgr: MockDomainManager) => T | Promise<T>): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
    const mgr = new MockDomainManager();
    return runInFiber({ ...currentFiber(), tracePrefix: "[0] " }, async () => await fn(mgr));
  },
};
