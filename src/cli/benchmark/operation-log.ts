// What one worker measured for one kind of operation: each success (start time, duration) and
// each error (start time, message), like go-dqlite's benchmark tracker. Samples live in typed
// arrays that grow by doubling up to a bound; past it only the counters go on (a long run cannot
// exhaust memory).

/** Default bound on the samples kept per worker and kind (16 bytes each). */
export const DEFAULT_MAX_SAMPLES = 4_000_000;
/** Error lines kept per worker and kind; the count goes on past it. */
const MAX_ERROR_LINES = 100_000;

export interface LoggedError {
  /** Wall-clock start, nanoseconds since the Unix epoch. */
  startNs: bigint;
  message: string;
}

export class OperationLog {
  readonly #maxSamples: number;
  #starts = new BigInt64Array(1024);
  #durations = new Float64Array(1024);
  #samples = 0;
  /** Successes, all of them (samples may stop at the bound). */
  successes = 0;
  /** Errors, all of them. */
  errorCount = 0;
  totalNs = 0;
  minNs = Number.POSITIVE_INFINITY;
  maxNs = 0;
  readonly errors: LoggedError[] = [];

  constructor(maxSamples = DEFAULT_MAX_SAMPLES) {
    if (!Number.isInteger(maxSamples) || maxSamples < 0) {
      throw new RangeError(`maxSamples must be a non-negative integer, got ${maxSamples}`);
    }
    this.#maxSamples = maxSamples;
  }

  /** Records a success that started at `startNs` (wall clock) and took `durationNs`. */
  success(startNs: bigint, durationNs: number): void {
    this.successes++;
    this.totalNs += durationNs;
    if (durationNs < this.minNs) this.minNs = durationNs;
    if (durationNs > this.maxNs) this.maxNs = durationNs;
    if (this.#samples >= this.#maxSamples) return;
    if (this.#samples === this.#starts.length) this.#grow();
    this.#starts[this.#samples] = startNs;
    this.#durations[this.#samples] = durationNs;
    this.#samples++;
  }

  /** Records a failure that started at `startNs`. */
  failure(startNs: bigint, message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_ERROR_LINES) this.errors.push({ startNs, message });
  }

  /** Samples kept (≤ successes). */
  get sampleCount(): number {
    return this.#samples;
  }

  /** Start of sample `i`, nanoseconds since the Unix epoch. */
  startNs(i: number): bigint {
    return this.#starts[i];
  }

  /** Duration of sample `i` in nanoseconds. */
  durationNs(i: number): number {
    return this.#durations[i];
  }

  /** The kept durations (a view; do not keep it across further recording). */
  durations(): Float64Array {
    return this.#durations.subarray(0, this.#samples);
  }

  #grow(): void {
    const size = Math.min(this.#starts.length * 2, Math.max(this.#maxSamples, 1));
    const starts = new BigInt64Array(size);
    starts.set(this.#starts);
    const durations = new Float64Array(size);
    durations.set(this.#durations);
    this.#starts = starts;
    this.#durations = durations;
  }
}
