/**
 * How a trace buffer's bytes reach its file. Either written at once on the calling thread, or —
 * when the buffer is given a TraceFileWriter — copied into slots of shared memory that the writer's
 * thread writes out while the job's output keeps coming: on a VM with cold pages the copy into the
 * page cache was the largest single part of the main thread's time (perf, a 1 GiB job). A slot is 256 KiB; a buffer
 * has eight, so at most 2 MiB wait for the file and a loud job blocks, as a full pipe would, only
 * when the thread falls that far behind.
 */
import { writeSync } from "node:fs";

export const SLOT_BYTES = 256 * 1024;
export const SLOTS = 8;
/** Where in the state array a failed write is flagged (with the length of its text). */
export const ERROR_FLAG = SLOTS;
export const ERROR_TEXT_BYTES = 512;
/** How long a buffer waits for a slot before it takes the writer's thread for gone. */
const WAIT_MS = 60_000;

/** One slot to write, as posted to the writer's thread. */
export interface SlotWrite {
  readonly fd: number;
  readonly memory: SharedArrayBuffer;
  /** Int32 per slot (1 queued, 0 free), then the error flag. */
  readonly state: SharedArrayBuffer;
  readonly errorText: SharedArrayBuffer;
  readonly slot: number;
  readonly length: number;
  readonly position: number;
}

/** Where the file's next bytes are gathered, and how they are written. */
export interface FileWrites {
  /** The bytes not yet handed on go here, from offset 0; it may be another buffer after `write`. */
  readonly pending: Buffer;
  /** Writes `pending[0, length)` at `position`, now or in the background. */
  write(length: number, position: number): void;
  /** Writes `pending[0, length)` at `position` before returning; `pending` stays the same buffer. */
  writeNow(length: number, position: number): void;
  /** Returns once everything handed to `write` is in the file. */
  settle(): void;
}

/** Written at once, on this thread. */
export class DirectWrites implements FileWrites {
  readonly pending = Buffer.allocUnsafe(SLOT_BYTES);

  constructor(private readonly fd: number) {}

  write(length: number, position: number): void {
    writeAll(this.fd, this.pending, length, position);
  }

  writeNow(length: number, position: number): void {
    writeAll(this.fd, this.pending, length, position);
  }

  settle(): void {}
}

/** Written by another thread (trace-file-worker.ts), from shared memory. */
export class SlotWrites implements FileWrites {
  readonly #memory = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  readonly #stateMemory = new SharedArrayBuffer(4 * (SLOTS + 1));
  readonly #state = new Int32Array(this.#stateMemory);
  readonly #errorText = new SharedArrayBuffer(ERROR_TEXT_BYTES);
  #slot = 0;
  pending: Buffer;

  constructor(private readonly fd: number, private readonly post: (write: SlotWrite) => void) {
    this.pending = this.#view(0);
  }

  write(length: number, position: number): void {
    this.#throwIfFailed();
    if (length === 0) return;
    const slot = this.#slot;
    Atomics.store(this.#state, slot, 1);
    this.post({ fd: this.fd, memory: this.#memory, state: this.#stateMemory, errorText: this.#errorText, slot, length, position });
    this.#slot = (slot + 1) % SLOTS;
    // Slots are written in turn, so the next one is the oldest still queued, if any.
    this.#waitFor(this.#slot);
    this.pending = this.#view(this.#slot);
    this.#throwIfFailed();
  }

  /**
   * A part of a slot (the reporter reads what has been stored) is written here: it is small, and a
   * job whose trace never fills a slot never starts the writer's thread.
   */
  writeNow(length: number, position: number): void {
    this.#throwIfFailed();
    writeAll(this.fd, this.pending, length, position);
  }

  settle(): void {
    for (let slot = 0; slot < SLOTS; slot++) this.#waitFor(slot);
    this.#throwIfFailed();
  }

  #waitFor(slot: number): void {
    if (Atomics.wait(this.#state, slot, 1, WAIT_MS) === "timed-out") {
      throw new Error(`the trace file could not be written: its writer has not written for ${WAIT_MS / 1000} s`);
    }
  }

  #view(slot: number): Buffer {
    return Buffer.from(this.#memory, slot * SLOT_BYTES, SLOT_BYTES);
  }

  #throwIfFailed(): void {
    const length = Atomics.load(this.#state, ERROR_FLAG);
    if (length === 0) return;
    throw new Error(`the trace file could not be written: ${new TextDecoder().decode(new Uint8Array(this.#errorText, 0, length).slice())}`);
  }
}

function writeAll(fd: number, bytes: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, bytes, done, length - done, position + done);
}
