/**
 * The mock backend's deterministic scheduler: it resumes yielded and woken fibers one at a
 * time, each once every promise job has run, advances the mock clock when nothing else can
 * run, and reports a deadlock when not even that is possible.
 * @module
 */
import {
  CancelContext,
  currentFiber,
  defaultScheduler,
  type FiberContext,
  runInFiber,
  type Scheduler,
  type TraceSink,
} from "../core/index.ts";

/**
 * A mock run could not go on: its main function has not returned, yet no fiber can run, no
 * mock timer is pending, and nothing outside the run can wake it (Eio's `Deadlock_detected`).
 * The message lists the mock operations still waiting.
 */
export class DeadlockDetected extends Error {
  /** The mock operations that were waiting (`tcp/80: accept`, `flow: read`, ...). */
  readonly waiting: readonly string[];

  constructor(waiting: readonly string[]) {
    super(
      "Deadlock detected: the main function has not returned, but no fiber can run and no " +
        `mock timer is pending${waiting.length > 0 ? `; still waiting: ${waiting.join(", ")}` : ""}`,
    );
    this.name = "DeadlockDetected";
    this.waiting = waiting;
  }
}

/** A clock the scheduler advances when every fiber is waiting. */
export interface AdvancingClock {
  /** Moves to the next timer (waking its sleepers) and returns true, or returns false if none. */
  tryAdvance(): boolean;
}

// Runs in start order: an idle run only reports a deadlock when it is the newest one still
// running, since an older run may be waiting for a newer one (a run nested in a fiber).
const active: MockScheduler[] = [];

/**
 * The scheduler of one mock run, installed as the `scheduler` of every fiber of the run.
 * Fibers that yield, fibers whose blocking operations complete (when the core routes wake-ups
 * through `wake`) and parents waiting for a new fiber to block (`forked`) are resumed one at a
 * time, each after all promise jobs have run, so runs are deterministic.
 */
export class MockScheduler implements Scheduler {
  readonly #queue: Array<() => void> = [];
  #head = 0;
  readonly #forked: Array<() => void> = [];
  readonly #waiting = new Map<number, string | (() => string)>();
  #nextOp = 0;
  #clock: AdvancingClock | undefined = undefined;
  #state: "new" | "running" | "finished" = "new";
  readonly #immediates: NodeJS.Immediate[] = [];
  #onDeadlock: (e: DeadlockDetected) => void = () => {};
  #ctx: FiberContext | undefined = undefined;
  #holds = 0;

  /**
   * Starts the run: returns the root context its fibers run in (with `env` as the running
   * environment), and begins checking for quiescence. `onDeadlock` is called (once) if the run
   * deadlocks.
   */
  start(
    trace: TraceSink,
    clock: AdvancingClock | undefined,
    onDeadlock: (e: DeadlockDetected) => void,
    env?: unknown,
  ): FiberContext {
    if (this.#state !== "new") throw new Error("MockScheduler: already started");
    this.#state = "running";
    this.#clock = clock;
    this.#onDeadlock = onDeadlock;
    const parent = currentFiber();
    this.#ctx = {
      cc: new CancelContext(parent.cc),
      trace,
      tracePrefix: "",
      scheduler: this,
      env,
    };
    active.push(this);
    this.#schedule();
    return this.#ctx;
  }

  /** Ends the run: stops checking and resumes at once whatever is still queued. */
  finish(): void {
    if (this.#state !== "running") return;
    this.#state = "finished";
    for (const im of this.#immediates) clearImmediate(im);
    this.#immediates.length = 0;
    const i = active.indexOf(this);
    if (i >= 0) active.splice(i, 1);
    this.#ctx?.cc.finish();
    const rest = [...this.#forked.reverse(), ...this.#queue.slice(this.#head)];
    this.#forked.length = 0;
    this.#queue.length = 0;
    this.#head = 0;
    for (const f of rest) f();
  }

  /** Whether the run is still going. */
  get running(): boolean {
    return this.#state === "running";
  }

  /** Resolves once every fiber queued before has had its turn (Eio's `Fiber.yield`). */
  yield(): Promise<void> {
    if (this.#state !== "running") return defaultScheduler.yield();
    return new Promise<void>((resolve) => {
      this.#queue.push(resolve);
    });
  }

  /** Queues `resume` (a woken fiber) behind the fibers already runnable, as Eio's run queue. */
  wake(resume: () => void): void {
    if (this.#state !== "running") resume();
    else this.#queue.push(resume);
  }

  /**
   * Resolves once the fibers just started have run until they block, before any queued
   * fiber (Eio's `fork` runs the new fiber first, then its parent).
   */
  forked(): Promise<void> {
    if (this.#state !== "running") return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#forked.push(resolve);
    });
  }

  /**
   * Keeps the run from being reported as deadlocked while work outside its fibers (Node's own
   * machinery) is under way; returns the function that ends the hold (once).
   */
  hold(): () => void {
    this.#holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#holds--;
    };
  }

  /**
   * Records that the mock operation `what` is waiting (for deadlock reports; a function is
   * called only if a report is made); returns the function to call when it is done.
   */
  waiting(what: string | (() => string)): () => void {
    const id = this.#nextOp++;
    this.#waiting.set(id, what);
    return () => {
      this.#waiting.delete(id);
    };
  }

  /** The mock operations waiting now, in the order they began (what a deadlock report lists). */
  waitingOps(): string[] {
    return [...this.#waiting.values()].map((w) => (typeof w === "string" ? w : w()));
  }

  #schedule(): void {
    if (this.#state !== "running") return;
    // Node runs every promise job between two setImmediate callbacks of one loop turn, so
    // queueing one callback per runnable fiber (up to a batch) keeps "each turn starts once
    // every promise job has run" while saving a loop turn per step.
    const want = Math.min(batch, 1 + this.#forked.length + this.#queue.length - this.#head);
    while (this.#immediates.length < want) this.#immediates.push(setImmediate(this.#check));
  }

  // setImmediate callbacks run only once every promise job has run: the run is quiescent.
  readonly #check = (): void => {
    this.#immediates.shift();
    if (this.#state !== "running") return;
    const ctx = this.#ctx as FiberContext;
    runInFiber(ctx, () => this.#step());
    this.#schedule();
  };

  #step(): void {
    const parent = this.#forked.pop();
    if (parent !== undefined) {
      parent();
      return;
    }
    if (this.#head < this.#queue.length) {
      const f = this.#queue[this.#head] as () => void;
      this.#queue[this.#head] = noop;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      f();
      return;
    }
    if (this.#holds > 0) return;
    if (this.#clock?.tryAdvance()) return;
    if (active[active.length - 1] !== this) return;
    const waiting = this.waitingOps();
    const onDeadlock = this.#onDeadlock;
    this.finish();
    onDeadlock(new DeadlockDetected(waiting));
  }
}

function noop(): void {}

/** The most steps queued as setImmediate callbacks at once (see `#schedule`). */
const batch = 32;

/** The mock scheduler of the calling fiber's run, if it runs in one. */
export function currentMockScheduler(): MockScheduler | undefined {
  const s = currentFiber().scheduler;
  return s instanceof MockScheduler && s.running ? s : undefined;
}
