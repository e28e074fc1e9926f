// A bounded pool of sessions (leader connections with the database open) for one database handle.
// Idle sessions are reused most-recent first; broken ones are dropped; callers beyond the bound
// wait in a bounded queue.
import type { Deadline } from "./deadline.js";
import { DqliteError } from "./errors.js";
import type { Session } from "./session.js";

/** Callers waiting for a session beyond this are refused. */
const MAX_WAITERS = 10_000;

interface Waiter {
  // A session handed over by `release`, or undefined: a slot is free, create one.
  resolve(session: Session | undefined): void;
  reject(error: unknown): void;
}

export class SessionPool {
  readonly maxSessions: number;
  readonly #create: (deadline: Deadline) => Promise<Session>;
  readonly #idle: Session[] = [];
  readonly #all = new Set<Session>();
  #pending = 0;
  readonly #waiters: Waiter[] = [];
  #closed = false;

  constructor(maxSessions: number, create: (deadline: Deadline) => Promise<Session>) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new RangeError(`maxConnections must be a positive integer, got ${maxSessions}`);
    }
    this.maxSessions = maxSessions;
    this.#create = create;
  }

  /** Sessions open or being opened. */
  get size(): number {
    return this.#all.size + this.#pending;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** A snapshot of the idle sessions (they stay in the pool). */
  idleSessions(): Session[] {
    return [...this.#idle];
  }

  /** A session for exclusive use; give it back with `release` or `discard`. */
  async acquire(deadline: Deadline): Promise<Session> {
    this.#checkOpen();
    deadline.throwIfAborted();
    const idle = this.#takeIdle();
    if (idle !== undefined) return idle;
    if (this.size < this.maxSessions) {
      this.#pending++;
      return await this.#open(deadline);
    }
    // Either a released session, or a slot already reserved for us by #freeSlot.
    const handed = await this.#wait(deadline);
    return handed ?? (await this.#open(deadline));
  }

  /** Gives a session back: reused if healthy, else dropped. */
  release(session: Session): void {
    if (this.#closed || session.broken || session.openStreams.size > 0) {
      this.discard(session);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(session);
    else this.#idle.push(session);
  }

  /** Closes a session and frees its slot. */
  discard(session: Session): void {
    session.close();
    if (!this.#all.delete(session)) return;
    const index = this.#idle.indexOf(session);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#freeSlot();
  }

  /** Drops the idle sessions connected to `address` (after it stopped leading). */
  discardIdleTo(address: string): void {
    for (const session of [...this.#idle]) {
      if (session.connection.address === address) this.discard(session);
    }
  }

  /** Closes every session, idle or in use; waiting and later callers get an error. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of [...this.#all]) session.close();
    this.#all.clear();
    this.#idle.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closedError());
  }

  #takeIdle(): Session | undefined {
    for (;;) {
      const session = this.#idle.pop();
      if (session === undefined) return undefined;
      if (!session.broken) return session;
      session.close();
      this.#all.delete(session);
    }
  }

  // Opens a session in a slot reserved by the caller (#pending counts it).
  async #open(deadline: Deadline): Promise<Session> {
    let session: Session;
    try {
      session = await this.#create(deadline);
    } catch (error) {
      this.#pending--;
      this.#freeSlot();
      throw error;
    }
    this.#pending--;
    if (this.#closed) {
      session.close();
      throw closedError();
    }
    this.#all.add(session);
    return session;
  }

  #freeSlot(): void {
    if (this.size >= this.maxSessions) return;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return;
    this.#pending++;
    waiter.resolve(undefined);
  }

  #wait(deadline: Deadline): Promise<Session | undefined> {
    if (this.#waiters.length >= MAX_WAITERS) {
      return Promise.reject(
        new DqliteError(`more than ${MAX_WAITERS} callers wait for a connection`),
      );
    }
    return new Promise((resolve, reject) => {
      const stop = deadline.watch((why) => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(why);
      });
      const waiter: Waiter = {
        resolve: (session) => {
          stop();
          resolve(session);
        },
        reject: (error) => {
          stop();
          reject(error);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }
}

function closedError(): DqliteError {
  return new DqliteError("the database handle is closed");
}
