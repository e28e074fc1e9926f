// One AbortSignal per operation that fires when the caller aborts or when the operation's time is
// up. Abort reasons carry the answer: the caller's own reason, or our TimeoutError.
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

/** An operation's deadline; call `dispose` when the operation is over to clear its timer. */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onParentAbort = (): void => this.#controller.abort(this.#parent?.reason);

  constructor(signal: AbortSignal | undefined, timeoutMs: number) {
    checkTimeoutMs(timeoutMs);
    this.#parent = signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#controller.abort(signal.reason);
        return;
      }
      signal.addEventListener("abort", this.#onParentAbort, { once: true });
    }
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      // Timers beyond 2^31-1 ms fire at once in Node: such limits mean "no limit" in practice.
      if (timeoutMs < 2 ** 31) {
        this.#timer = setTimeout(
          () => this.#controller.abort(new TimeoutError(timeoutMs)),
          timeoutMs,
        );
        this.#timer.unref();
      }
    }
  }

  /** Starts a deadline from call options and the handle's default time limit. */
  static start(options: CallOptions | undefined, defaultTimeoutMs: number): Deadline {
    return new Deadline(options?.signal, options?.timeoutMs ?? defaultTimeoutMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Throws the abort reason if the deadline has passed or the caller aborted. */
  throwIfAborted(): void {
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#parent?.removeEventListener("abort", this.#onParentAbort);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
