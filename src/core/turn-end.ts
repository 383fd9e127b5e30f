/**
 * The end of the event loop's turn: work queued here runs once the turn's I/O callbacks have
 * run (one `setImmediate` for everything queued, in order), as Redis writes its replies before
 * it sleeps. The writers stand on it: BufWrite's flush, and a socket-to-socket copy's sends
 * after the first of a turn, so that the replies of a turn go out back to back and a client
 * answering many connections is woken once for them, not once per reply.
 * @module
 */
import { setImmediate } from "node:timers";

/** Something due at the end of the turn. */
export interface TurnEndTask {
  /** Runs at the end of the turn it was queued in. Must not throw (an error is rethrown apart). */
  turnEnded(): void;
}

let queue: TurnEndTask[] = [];
let spare: TurnEndTask[] = [];
let armed = false;

function runQueue(): void {
  armed = false;
  const q = queue;
  queue = spare;
  for (let i = 0; i < q.length; i++) {
    try {
      (q[i] as TurnEndTask).turnEnded();
    } catch (e) {
      // The others still run; the error is not lost
      queueMicrotask(() => {
        throw e;
      });
    }
  }
  // Popping is much cheaper than `length = 0` for the short lists here
  while (q.length > 0) q.pop();
  spare = q;
}

function arm(): void {
  if (!armed) {
    armed = true;
    setImmediate(runQueue);
  }
}

/**
 * Runs `task.turnEnded()` at the end of this turn (queued again during it: the next turn's).
 * Queue a task once per turn: it runs as many times as it was queued.
 * @example
 * ```ts
 * atTurnEnd({ turnEnded: () => console.log("the turn's I/O is done") });
 * ```
 */
export function atTurnEnd(task: TurnEndTask): void {
  queue.push(task);
  arm();
}

/**
 * Whether the caller is the first in this turn to claim it: `true` once per turn (and the
 * turn's end is armed then), `false` for everyone after, until the turn ends.
 * @example
 * ```ts
 * if (claimTurn()) sendNow(bytes);
 * else atTurnEnd(sender); // the turn's first send went at once; the rest go together
 * ```
 */
export function claimTurn(): boolean {
  if (armed) return false;
  arm();
  return true;
}
