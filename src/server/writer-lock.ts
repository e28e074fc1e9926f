// One writer per database: a statement that writes must own its database's lock, held until its
// transaction is committed through raft or rolled back. Other writers wait in a bounded FIFO queue
// for at most the busy timeout and then get SQLITE_BUSY, instead of failing at once as dqlite 1.11
// does.

export class BusyError extends Error {
  override name = "BusyError";
  constructor() {
    super("database is locked");
  }
}

interface Waiter {
  owner: object;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class WriterLock {
  readonly #maxWaiters: number;
  #owner: object | null = null;
  readonly #waiters: Waiter[] = [];

  constructor(maxWaiters = 10_000) {
    this.#maxWaiters = maxWaiters;
  }

  get owner(): object | null {
    return this.#owner;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves once `owner` holds the lock; rejects with BusyError after `timeoutMs`. */
  acquire(owner: object, timeoutMs: number): Promise<void> {
    if (this.#owner === null || this.#owner === owner) {
      this.#owner = owner;
      return Promise.resolve();
    }
    if (timeoutMs <= 0 || this.#waiters.length >= this.#maxWaiters) {
      return Promise.reject(new BusyError());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        owner,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(new BusyError());
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Gives the lock up if `owner` holds it; the longest waiter gets it next. */
  release(owner: object): void {
    if (this.#owner !== owner) return;
    const next = this.#waiters.shift();
    this.#owner = next?.owner ?? null;
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    }
  }

  /** Drops `owner` from the queue (its connection went away). */
  cancel(owner: object): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i];
      if (waiter.owner !== owner) continue;
      this.#waiters.splice(i, 1);
      clearTimeout(waiter.timer);
      waiter.reject(new BusyError());
    }
  }
}
