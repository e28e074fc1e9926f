// An operation's deadline: the caller's AbortSignal and a time limit in one object. It is cheap on
// the hot path: nothing is allocated until something actually waits (`watch` arms one timer), and
// an AbortSignal is only made when an API needs one (`signal`). Abort reasons carry the answer:
// the caller's own reason, or our TimeoutError.
import { TimeoutError } from "./errors.js";

/** Options every operation of the client takes. */
export interface CallOptions {
  /** Aborts the operation; it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time limit for the operation (default: the handle's `timeoutMs`); Infinity = none. */
  timeoutMs?: number;
}

/** Checks a user-supplied time limit. */
export function checkTimeoutMs(timeoutMs: number, what = "timeoutMs"): number {
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`${what} must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  return timeoutMs;
}

// Node fires timers longer than this at once: such limits mean "no limit" in practice.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Deadline {
  readonly #parent: AbortSignal | undefined;
  readonly #timeoutMs: number;
  readonly #expiresAt: number;
  #controller: AbortController | undefined;
  #disposeSignal: (() => void) | undefined;

  constructor(signal: AbortSignal | undefined, timeoutMs: number) {
    checkTimeoutMs(timeoutMs);
    this.#parent = signal;
    this.#timeoutMs = timeoutMs;
    this.#expiresAt =
      timeoutMs > MAX_TIMER_MS ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
  }

  /** Starts a deadline from call options and the handle's default time limit. */
  static start(options: CallOptions | undefined, defaultTimeoutMs: number): Deadline {
    return new Deadline(options?.signal, options?.timeoutMs ?? defaultTimeoutMs);
  }

  /** A deadline no later than this one and at most `timeoutMs` from now (dial, attempt limits). */
  child(timeoutMs: number): Deadline {
    return new Deadline(this.signal, timeoutMs);
  }

  /** Why the operation must stop (caller's reason or TimeoutError), or undefined while it may go on. */
  get reason(): unknown {
    if (this.#parent?.aborted) return this.#parent.reason;
    if (this.#controller?.signal.aborted) return this.#controller.signal.reason;
    if (performance.now() >= this.#expiresAt) return new TimeoutError(this.#timeoutMs);
    return undefined;
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** True when it ended because time ran out (not because the caller aborted). */
  get timedOut(): boolean {
    return this.reason instanceof TimeoutError;
  }

  /** Throws the abort reason if the deadline has passed or the caller aborted. */
  throwIfAborted(): void {
    const reason = this.reason;
    if (reason !== undefined) throw reason;
  }

  /**
   * Calls `onAbort` once, with the reason, when the deadline passes or the caller aborts; the
   * returned function stops watching. Costs one timer (and a listener if there is a caller signal).
   */
  watch(onAbort: (reason: unknown) => void): () => void {
    if (this.#controller !== undefined) return listen(this.#controller.signal, onAbort);
    return this.#arm(onAbort);
  }

  /** An AbortSignal that aborts with the deadline (made on first use, for APIs that need one). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#disposeSignal = this.#arm((reason) => controller.abort(reason));
      this.#controller = controller;
    }
    return this.#controller.signal;
  }

  /** Clears the timer behind `signal`, if one was made. */
  dispose(): void {
    this.#disposeSignal?.();
    this.#disposeSignal = undefined;
  }

  // One timer for the time limit and a listener on the caller's signal.
  #arm(onAbort: (reason: unknown) => void): () => void {
    const reason = this.reason;
    if (reason !== undefined) {
      queueMicrotask(() => onAbort(reason));
      return () => {};
    }
    const parent = this.#parent;
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (parent !== undefined) parent.removeEventListener("abort", onParentAbort);
    };
    const onParentAbort = (): void => {
      stop();
      onAbort(parent!.reason);
    };
    if (this.#expiresAt !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(
        () => {
          stop();
          onAbort(new TimeoutError(this.#timeoutMs));
        },
        Math.max(0, this.#expiresAt - performance.now()),
      );
    }
    if (parent !== undefined) parent.addEventListener("abort", onParentAbort, { once: true });
    return stop;
  }
}

function listen(signal: AbortSignal, onAbort: (reason: unknown) => void): () => void {
  if (signal.aborted) {
    queueMicrotask(() => onAbort(signal.reason));
    return () => {};
  }
  const handler = (): void => onAbort(signal.reason);
  signal.addEventListener("abort", handler, { once: true });
  return () => signal.removeEventListener("abort", handler);
}

/** Resolves after `ms`, or rejects with the deadline's reason when it ends first. */
export function sleep(ms: number, deadline: Deadline): Promise<void> {
  const reason = deadline.reason;
  if (reason !== undefined) return Promise.reject(reason);
  return new Promise((resolve, reject) => {
    const stop = deadline.watch((why) => {
      clearTimeout(timer);
      reject(why);
    });
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
  });
}
