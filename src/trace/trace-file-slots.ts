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

/**
 * What a buffer posts to the writer's thread. Its shared memory goes once, when it first hands on a
 * slot (`open`); each slot after that is four numbers: a message carrying three SharedArrayBuffers
 * cost ~120 µs more of the process's CPU than one of numbers (5,000 round trips, twice), ~0.65
 * CPU-seconds over the 5,440 slots of a 1 GiB job's timestamped trace.
 */
export type SlotMessage =
  | {
      readonly kind: "open";
      readonly buffer: number;
      readonly fd: number;
      readonly memory: SharedArrayBuffer;
      /** Int32 per slot (1 queued, 0 free), then the error flag. */
      readonly state: SharedArrayBuffer;
      readonly errorText: SharedArrayBuffer;
    }
  | { readonly kind: "write"; readonly buffer: number; readonly slot: number; readonly length: number; readonly position: number }
  /** The buffer has settled and is gone: its thread forgets it. */
  | { readonly kind: "close"; readonly buffer: number };

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
  /** After the last settle: nothing more will be written (the writer's thread forgets the buffer). */
  release(): void;
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

  release(): void {}
}

/** Written by another thread (trace-file-worker.ts), from shared memory. */
export class SlotWrites implements FileWrites {
  readonly #memory = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  readonly #stateMemory = new SharedArrayBuffer(4 * (SLOTS + 1));
  readonly #state = new Int32Array(this.#stateMemory);
  readonly #errorText = new SharedArrayBuffer(ERROR_TEXT_BYTES);
  #slot = 0;
  #opened = false;
  pending: Buffer;

  /** `buffer` names this buffer to the writer's thread, unique among the buffers it writes. */
  constructor(private readonly fd: number, private readonly buffer: number, private readonly post: (message: SlotMessage) => void) {
    this.pending = this.#view(0);
  }

  write(length: number, position: number): void {
    this.#throwIfFailed();
    if (length === 0) return;
    const slot = this.#slot;
    Atomics.store(this.#state, slot, 1);
    if (!this.#opened) {
      this.post({ kind: "open", buffer: this.buffer, fd: this.fd, memory: this.#memory, state: this.#stateMemory, errorText: this.#errorText });
      this.#opened = true;
    }
    this.post({ kind: "write", buffer: this.buffer, slot, length, position });
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

  release(): void {
    if (!this.#opened) return;
    this.#opened = false;
    this.post({ kind: "close", buffer: this.buffer });
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
