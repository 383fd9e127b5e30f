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

  /**
   * Waits until {@link wakeAll} (or cancellation); `what()` names the wait in deadlock reports
   * (called only if one is made).
   */
  wait(what: () => string, signal: AbortSignal | undefined): Promise<void> {
    const sched = currentMockScheduler();
    return suspend<void>((resolve) => {
      const done = sched?.waiting(what);
      const w =
        done === undefined
          ? resolve
          : (): void => {
              done();
              resolve();
            };
      this.#list.push(w as () => void);
      return () => {
        done?.();
        const i = this.#list.indexOf(w as () => void);
        if (i >= 0) this.#list.splice(i, 1);
      };
    }, signal);
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
