// The Rows messages of one query, pulled one at a time as the caller asks for them. The stream
// holds the connection's lock until the result is over. Closing it early does what go-dqlite does:
// if the last message ended with PART, send Interrupt and discard messages until Empty.

import { type Frame, ResponseType, type RowsResponse } from "../wire/index.js";
import { type Connection, expectResponse } from "./connection.js";
import type { Deadline } from "./deadline.js";

/**
 * A result longer than this after an Interrupt is cheaper to abandon with its connection than to
 * read to the end (real servers stream the whole result before they read the Interrupt).
 */
const MAX_DRAIN_MESSAGES = 1024;

export class RowStream {
  readonly #connection: Connection;
  readonly #dbId: number;
  readonly #bigints: boolean;
  readonly #onEnd: (stream: RowStream) => void;
  /** The current message (the first one until `next` is called). */
  batch: RowsResponse;
  #finished = false;

  /** Takes over the connection's lock, which `first` was read under. */
  constructor(
    connection: Connection,
    dbId: number,
    first: RowsResponse,
    bigints: boolean,
    onEnd: (stream: RowStream) => void,
  ) {
    this.#connection = connection;
    this.#dbId = dbId;
    this.#bigints = bigints;
    this.#onEnd = onEnd;
    this.batch = first;
    if (!first.more) this.#finish();
  }

  get columns(): string[] {
    return this.batch.columns;
  }

  /** True once the server has sent the last message or the stream was closed. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Reads the next message into `batch`; false when the result is over. */
  async next(deadline: Deadline): Promise<boolean> {
    if (this.#finished) return false;
    try {
      const frame = await this.#connection.receiveFrame(deadline);
      const rows = expectResponse(
        this.#connection,
        this.#connection.decode(frame, { bigints: this.#bigints }),
        "rows",
      );
      this.batch = rows;
      if (!rows.more) this.#finish();
      return true;
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  /**
   * Ends the stream. If more messages were coming, interrupts the query and waits for the Empty
   * that closes it; a connection that cannot be brought back in step is closed instead.
   */
  async close(deadline: Deadline): Promise<void> {
    if (this.#finished) return;
    try {
      this.#connection.send({ type: "interrupt", dbId: this.#dbId });
      for (let i = 0; i < MAX_DRAIN_MESSAGES; i++) {
        const frame: Frame = await this.#connection.receiveFrame(deadline);
        if (frame.type === ResponseType.Empty) return;
      }
      this.#connection.poison(`more than ${MAX_DRAIN_MESSAGES} messages after an interrupt`);
    } catch {
      // The connection is broken now (the pool drops it); closing itself cannot fail.
    } finally {
      this.#finish();
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#connection.unlock();
    this.#onEnd(this);
  }
}
