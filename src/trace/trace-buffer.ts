import { closeSync, fstatSync, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utf8 } from "./bytes.ts";
import { Utf8Repairer } from "./utf8-repair.ts";
import { GarbageCadence } from "./garbage-cadence.ts";
import { DirectWrites, SLOT_BYTES, type FileWrites } from "./trace-file-slots.ts";
import type { TraceFileWriter } from "./trace-file-writer.ts";

const PENDING_BYTES = SLOT_BYTES;

/** The default `output_limit`: 4 MiB. */
export const DEFAULT_OUTPUT_LIMIT = 4 * 1024 * 1024;

/**
 * The stored trace of one job (docs/protocol.md §6.5): a temporary file and a running CRC32 over
 * exactly the stored bytes. Each invalid UTF-8 byte becomes U+FFFD (utf8-repair.ts). When the output limit is reached the
 * write is cut there (never inside a UTF-8 sequence), GitLab's notice is appended once, and later
 * writes are dropped. Memory use does not grow with the trace. Given a TraceFileWriter, the file
 * is written by its thread (trace-file-slots.ts); what is read back has always reached the file.
 */
export class TraceBuffer {
  readonly #fd: number;
  readonly #path: string;
  readonly #limit: number;
  readonly #repairer = new Utf8Repairer();
  /**
   * Where bytes stored but not yet in the file are gathered: small writes (a pipe gives ~12 KiB at a
   * time) are written together, a fraction of the system calls.
   */
  readonly #writes: FileWrites;
  #pendingLength = 0;
  /** Bytes in the file. */
  #written = 0;
  /** Collects now and then while a loud job writes (garbage-cadence.ts); the sender of the trace shares it. */
  readonly garbage = new GarbageCadence();
  #size = 0;
  #crc = 0;
  #full = false;
  #closed = false;
  /** Why the file stopped taking bytes (a full disk), once it has. */
  #failure: string | undefined;

  constructor(options: { limit?: number; dir?: string; writer?: TraceFileWriter } = {}) {
    this.#limit = options.limit ?? DEFAULT_OUTPUT_LIMIT;
    this.#path = join(options.dir ?? tmpdir(), `runner-trace-${process.pid}-${crypto.randomUUID()}`);
    this.#fd = openSync(this.#path, "w+", 0o600);
    this.#writes = options.writer ? options.writer.writesFor(this.#fd) : new DirectWrites(this.#fd);
  }

  /**
   * Why the file stopped taking the trace, if it did (`ENOSPC: no space left on device`, say). From
   * then on the trace is what the file holds: size and checksum are counted again over it, later
   * writes are dropped, and the job's output is still read to its end — a full disk never holds a
   * job up. The daemon reports such a job as a runner system failure (process-job.ts).
   */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** The stored bytes from `offset`, at most `length` of them, as a slice of the file (sent without copying). */
  slice(offset: number, length: number): Blob {
    this.#guarded(() => this.#writePending());
    return Bun.file(this.#path).slice(offset, Math.min(this.#size, offset + length));
  }

  /** Bytes stored so far. */
  get size(): number {
    return this.#size;
  }

  /** `crc32:xxxxxxxx` of the stored bytes. */
  get checksum(): string {
    return `crc32:${(this.#crc >>> 0).toString(16).padStart(8, "0")}`;
  }

  write(bytes: Uint8Array): void {
    if (this.#full || this.#closed || this.#failure !== undefined || bytes.length === 0) return;
    this.#guarded(() => this.#store(this.#repairer.write(bytes)));
  }

  /** Releases a UTF-8 sequence still waiting for its last bytes (as U+FFFD). */
  flush(): void {
    if (this.#closed || this.#full || this.#failure !== undefined) return;
    const tail = this.#repairer.end();
    if (tail.length > 0) this.#guarded(() => this.#store(tail));
  }

  /**
   * `length` stored bytes from `offset` (fewer at the end), read into `into` when given (so that a
   * caller sending patch after patch reuses one buffer), else into a new one.
   */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array {
    this.#guarded(() => this.#writePending());
    const end = Math.min(this.#size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const out = into && into.length >= end - offset ? into.subarray(0, end - offset) : new Uint8Array(end - offset);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.#fd, out, done, out.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pendingLength = 0;
    try {
      // Its last writes are done before the descriptor is closed.
      this.#writes.settle();
    } catch {
      // The file is being removed: a write it refused is the reporter's error (every read
      // settles first), not the close's.
    } finally {
      this.#release();
      closeSync(this.#fd);
    }
    try {
      unlinkSync(this.#path);
    } catch {
      // Already gone.
    }
  }

  /** The writer's thread forgets this buffer (a writer closed already has no thread to tell). */
  #release(): void {
    try {
      this.#writes.release();
    } catch {
      // The writer is closed: nothing holds the buffer there.
    }
  }

  #store(bytes: Uint8Array): void {
    const capacity = this.#limit - this.#size;
    let data = bytes;
    if (data.length >= capacity) {
      data = data.subarray(0, utf8Boundary(data, Math.max(0, capacity)));
      this.#full = true;
    }
    this.#append(data);
    if (this.#full) {
      this.#append(utf8(
        `\n\x1b[33;1mJob's log exceeded limit of ${this.#limit} bytes.\n` +
          "Job execution will continue but no more output will be collected.\x1b[0;m\n",
      ));
    }
  }

  #append(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#crc = Bun.hash.crc32(data, this.#crc);
    this.#size += data.length;
    this.garbage.passed(data.length);
    let from = 0;
    while (from < data.length) {
      const taken = Math.min(PENDING_BYTES - this.#pendingLength, data.length - from);
      this.#writes.pending.set(data.subarray(from, from + taken), this.#pendingLength);
      this.#pendingLength += taken;
      from += taken;
      if (this.#pendingLength === PENDING_BYTES) this.#handOn();
    }
  }

  /** Hands the gathered bytes to the file's writes. */
  #handOn(): void {
    if (this.#pendingLength === 0) return;
    const length = this.#pendingLength;
    this.#pendingLength = 0;
    this.#writes.write(length, this.#written);
    this.#written += length;
  }

  /** Runs a step that writes the file; should the file refuse, the trace ends where the file does. */
  #guarded(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (this.#failure !== undefined || this.#closed) return;
      this.#failure = (error instanceof Error ? error.message : String(error)).replace(/^the trace file could not be written: /, "").replace(/^Error: /, "");
      this.#endAtTheFile();
    }
  }

  /**
   * After a refused write: what the file holds is the trace. The writes already handed on are let
   * finish (or fail), the gathered bytes dropped, and size and CRC counted again over the file.
   */
  #endAtTheFile(): void {
    this.#pendingLength = 0;
    try {
      this.#writes.settle();
    } catch {
      // The same refusal, or a later slot's.
    }
    try {
      const size = Math.min(this.#size, fstatSync(this.#fd).size);
      const chunk = new Uint8Array(1024 * 1024);
      let crc = 0;
      let at = 0;
      while (at < size) {
        const n = readSync(this.#fd, chunk, 0, Math.min(chunk.length, size - at), at);
        if (n === 0) break;
        crc = Bun.hash.crc32(chunk.subarray(0, n), crc);
        at += n;
      }
      this.#size = at;
      this.#written = at;
      this.#crc = crc;
    } catch {
      // The file cannot even be read back: size and checksum stay as counted, nothing more is stored.
    }
  }

  /** Everything stored is in the file. */
  #writePending(): void {
    if (this.#closed || this.#failure !== undefined) return;
    this.#writes.settle();
    if (this.#pendingLength === 0) return;
    // Written where it stands, and gathered on from there: the slot fills before it is handed on.
    this.#writes.writeNow(this.#pendingLength, this.#written);
  }
}

/** The largest cut ≤ `at` that does not split a UTF-8 sequence of `data`. */
export function utf8Boundary(data: Uint8Array, at: number): number {
  let cut = Math.min(at, data.length);
  if (cut === data.length) return cut;
  // Step back over continuation bytes (10xxxxxx) to the start of the sequence at the cut.
  while (cut > 0 && (data[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}
