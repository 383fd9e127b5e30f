/**
 * Fibers waiting for something on a simulated socket (data, room, a connection): each waits
 * through `suspend`, so it is cancellable, and is listed in the scheduler's deadlock report.
 * @module
 */
import { suspend } from "../core/index.ts";
import { currentMockScheduler } from "../mock/scheduler.ts";

/** A set of waiting fibers, all woken at once. */
export class Waiters {
  #list: Array<() => void> = [];

  /** Waits until {@link wakeAll} (or cancellation); `what` names the wait in deadlock reports. */
  wait(what: string, signal: AbortSignal | undefined): Promise<void> {
    const done = currentMockScheduler()?.waiting(what);
    const p = suspend<void>((resolve) => {
      const w = (): void => resolve();
      this.#list.push(w);
      return () => {
        const i = this.#list.indexOf(w);
        if (i >= 0) this.#list.splice(i, 1);
      };
    }, signal);
    return done === undefined ? p : p.finally(done);
  }

  /** Whether anyone waits. */
  get any(): boolean {
    return this.#list.length > 0;
  }

  /** Wakes every waiter. */
  wakeAll(): void {
    if (this.#list.length === 0) return;
    const ws = this.#list;
    this.#list = [];
    for (const w of ws) w();
  }
}
