import { copyBytes, indexOfBytes, utf8 } from "./bytes.ts";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const MAX_PARTIAL = 8 * 1024;
const HEADER_LENGTH = 32;

/**
 * GitLab Runner's timestamped log format for one stream (docs/protocol.md §9.4): every line starts
 * with `YYYY-MM-DDTHH:MM:SS.ffffffZ <id><O|E><' '|'+'>`. A write holding `\r` but no further `\n`
 * is flushed whole as one line (a progress bar, a section marker) and the next line on the stream
 * is marked `+`; a partial line is held up to 8 KiB, then flushed and continued with `+`.
 * The lines of one write share one timestamp (they arrived together) and leave as one buffer,
 * which is reused by the next write: `write` must copy what it keeps (the trace buffer does).
 */
export class Timestamper {
  readonly #stream: Uint8Array;
  readonly #write: (bytes: Uint8Array) => void;
  readonly #now: () => number;
  #held: Uint8Array | undefined;
  #continuation = false;
  #scratch: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** `#scratch` as a DataView, for the header's eight words. */
  #scratchView = new DataView(this.#scratch.buffer, this.#scratch.byteOffset, this.#scratch.byteLength);
  /** How much of `#scratch` the write under way has filled. */
  #length = 0;
  /** The line header, rewritten only when the microsecond changes (its date and second only when the second does). */
  readonly #header = Buffer.alloc(HEADER_LENGTH);
  /**
   * The header as eight 32-bit words, stored with a DataView for each line: 6.6 ns a line against
   * 31 ns for a native copy of its 32 bytes (a microbench; a loud job has ten million lines a GiB).
   */
  readonly #headerWords = new Uint32Array(HEADER_LENGTH / 4);
  readonly #headerView = new DataView(this.#header.buffer, this.#header.byteOffset, HEADER_LENGTH);
  #headerAt = -1;
  #secondAt = Number.NaN;

  constructor(options: { id: number; type: "O" | "E"; write: (bytes: Uint8Array) => void; now?: () => number }) {
    this.#stream = utf8(options.id.toString(16).padStart(2, "0") + options.type);
    this.#header.set(this.#stream, HEADER_LENGTH - 4);
    this.#header[HEADER_LENGTH - 6] = 0x5a; // the timestamp's `Z`
    this.#header[HEADER_LENGTH - 5] = 0x20;
    this.#header[HEADER_LENGTH - 1] = 0x20;
    this.#write = options.write;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.#loadHeaderWords();
  }

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    // Node's Buffer methods, on the chunk as it came (no view of it): indexOf is a memchr, copy
    // needs no view objects (both per line).
    this.#stamp();
    // Room for every line at 64 bytes and up; a chunk of shorter lines makes the buffer grow.
    const wanted = data.length + HEADER_LENGTH * (2 + (data.length >> 6)) + (this.#held?.length ?? 0) + 1;
    if (this.#scratch.length < wanted) this.#useScratch(Buffer.allocUnsafe(wanted));
    this.#length = 0;
    let n = 0;
    let newline = indexOfBytes(data, NEWLINE);
    if (newline >= 0 && this.#held) {
      this.#putBytes(this.#held);
      this.#putRange(data, 0, newline + 1);
      this.#held = undefined;
      n = newline + 1;
      newline = indexOfBytes(data, NEWLINE, n);
    }
    while (newline >= 0) {
      this.#putHeader();
      this.#putRange(data, n, newline + 1);
      n = newline + 1;
      newline = indexOfBytes(data, NEWLINE, n);
    }
    if (n < data.length) this.#putRest(data, n);
    if (this.#length > 0) this.#write(this.#scratch.subarray(0, this.#length));
  }

  /**
   * The header's timestamp, {@link formatTimestamp}'s bytes: the date and second are formatted when
   * the second changes, the six digits after it written as digits (a loud job's writes each fall in
   * a microsecond of their own: a date formatted for each was ~1.5 µs of every chunk).
   */
  #stamp(): void {
    const now = this.#now();
    const micro = Math.floor(now * 1000);
    if (micro === this.#headerAt) return;
    this.#headerAt = micro;
    const whole = Math.floor(now);
    const second = Math.floor(whole / 1000);
    if (second !== this.#secondAt) {
      this.#secondAt = second;
      this.#header.write(new Date(second * 1000).toISOString().slice(0, 20), 0, "latin1");
    }
    putDigits(this.#header, 20, whole - second * 1000);
    putDigits(this.#header, 23, Math.floor((now * 1000) % 1000));
    this.#loadHeaderWords();
  }

  #loadHeaderWords(): void {
    for (let k = 0; k < this.#headerWords.length; k++) this.#headerWords[k] = this.#headerView.getUint32(k * 4, true);
  }

  #useScratch(buffer: Buffer): void {
    this.#scratch = buffer;
    this.#scratchView = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /**
   * What follows the last newline: with a `\r`, or past 8 KiB, it is flushed as a line of its own and
   * the next is a continuation (`+`); otherwise it is held for the next write.
   */
  #putRest(data: Uint8Array, n: number): void {
    const held = this.#held;
    if (indexOfBytes(data, CARRIAGE_RETURN, n) >= 0 || data.length - n + (held?.length ?? 0) > MAX_PARTIAL) {
      if (held) this.#putBytes(held);
      else this.#putHeader();
      this.#putRange(data, n, data.length);
      this.#reserve(1);
      this.#scratch[this.#length++] = NEWLINE;
      this.#held = undefined;
      this.#continuation = true;
    } else if (held) {
      this.#held = join(held, data.subarray(n));
    } else {
      const start = this.#length;
      this.#putHeader();
      this.#putRange(data, n, data.length);
      // Copied into a plain array: a slice of the Buffer went through its species constructor
      // (a Buffer), ~2.7 µs a chunk for the few bytes of a partial line.
      const partial = new Uint8Array(this.#length - start);
      copyBytes(this.#scratch, partial, 0, start, this.#length);
      this.#held = partial;
      this.#length = start;
    }
  }

  #reserve(more: number): void {
    if (this.#length + more <= this.#scratch.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#scratch.length * 2, this.#length + more));
    this.#scratch.copy(bigger, 0, 0, this.#length);
    this.#useScratch(bigger);
  }

  #putHeader(): void {
    this.#reserve(HEADER_LENGTH);
    const view = this.#scratchView;
    const words = this.#headerWords;
    const at = this.#length;
    for (let k = 0; k < words.length; k++) view.setUint32(at + 4 * k, words[k]!, true);
    this.#length += HEADER_LENGTH;
    if (this.#continuation) this.#scratch[this.#length - 1] = 0x2b;
    this.#continuation = false;
  }

  #putRange(data: Uint8Array, from: number, to: number): void {
    this.#reserve(to - from);
    copyBytes(data, this.#scratch, this.#length, from, to);
    this.#length += to - from;
  }

  #putBytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#scratch.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Ends an unfinished line with a newline. */
  end(): void {
    if (!this.#held) return;
    this.#write(join(this.#held, new Uint8Array([NEWLINE])));
    this.#held = undefined;
  }
}

/** `value` (0-999) as three ASCII digits at `at`. */
function putDigits(into: Uint8Array, at: number, value: number): void {
  into[at] = 0x30 + Math.floor(value / 100);
  into[at + 1] = 0x30 + (Math.floor(value / 10) % 10);
  into[at + 2] = 0x30 + (value % 10);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC with microseconds, from milliseconds since the epoch. */
export function formatTimestamp(epochMs: number): string {
  const iso = new Date(Math.floor(epochMs)).toISOString(); // …SS.mmmZ
  const micros = Math.floor((epochMs * 1000) % 1000).toString().padStart(3, "0");
  return `${iso.slice(0, 23)}${micros}Z`;
}
