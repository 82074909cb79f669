import { utf8 } from "./bytes.ts";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const MAX_PARTIAL = 8 * 1024;
const HEADER_LENGTH = 32;

/**
 * GitLab Runner's timestamped log format for one stream (gitlab-protocol.md §9.4): every line starts
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
  /** The line header, rewritten only when the millisecond changes. */
  readonly #header = Buffer.alloc(HEADER_LENGTH);
  #headerAt = -1;

  constructor(options: { id: number; type: "O" | "E"; write: (bytes: Uint8Array) => void; now?: () => number }) {
    this.#stream = utf8(options.id.toString(16).padStart(2, "0") + options.type);
    this.#header.set(this.#stream, HEADER_LENGTH - 4);
    this.#header[HEADER_LENGTH - 1] = 0x20;
    this.#write = options.write;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Node's Buffer methods: indexOf is a memchr, copy needs no view objects (both per line).
    const data = asBuffer(chunk);
    const header = this.#header;
    const now = this.#now();
    if (Math.floor(now * 1000) !== this.#headerAt) {
      this.#headerAt = Math.floor(now * 1000);
      header.write(`${formatTimestamp(now)} `, 0, "latin1");
    }
    const held = this.#held;
    // Room for every line at 64 bytes and up; a chunk of shorter lines makes the buffer grow.
    const wanted = data.length + HEADER_LENGTH * (2 + (data.length >> 6)) + (held?.length ?? 0) + 1;
    if (this.#scratch.length < wanted) this.#scratch = Buffer.allocUnsafe(wanted);
    let buffer = this.#scratch;
    let length = 0;
    const reserve = (more: number) => {
      if (length + more <= buffer.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + more));
      buffer.copy(bigger, 0, 0, length);
      buffer = this.#scratch = bigger;
    };
    const putHeader = () => {
      reserve(HEADER_LENGTH);
      header.copy(buffer, length);
      length += HEADER_LENGTH;
      if (this.#continuation) buffer[length - 1] = 0x2b;
      this.#continuation = false;
    };
    const putRange = (from: number, to: number) => {
      reserve(to - from);
      data.copy(buffer, length, from, to);
      length += to - from;
    };
    let n = 0;
    let newline = data.indexOf(NEWLINE);
    if (newline >= 0 && held) {
      reserve(held.length);
      buffer.set(held, length);
      length += held.length;
      putRange(0, newline + 1);
      this.#held = undefined;
      n = newline + 1;
      newline = data.indexOf(NEWLINE, n);
    }
    while (newline >= 0) {
      putHeader();
      putRange(n, newline + 1);
      n = newline + 1;
      newline = data.indexOf(NEWLINE, n);
    }
    if (n < data.length) {
      const heldNow = this.#held;
      const restLength = data.length - n;
      if (data.indexOf(CARRIAGE_RETURN, n) >= 0 || restLength + (heldNow?.length ?? 0) > MAX_PARTIAL) {
        if (heldNow) {
          reserve(heldNow.length);
          buffer.set(heldNow, length);
          length += heldNow.length;
        } else putHeader();
        putRange(n, data.length);
        reserve(1);
        buffer[length++] = NEWLINE;
        this.#held = undefined;
        this.#continuation = true;
      } else if (heldNow) {
        this.#held = join(heldNow, data.subarray(n));
      } else {
        const start = length;
        putHeader();
        putRange(n, data.length);
        this.#held = Uint8Array.prototype.slice.call(buffer, start, length);
        length = start;
      }
    }
    if (length > 0) this.#write(buffer.subarray(0, length));
  }

  /** Ends an unfinished line with a newline. */
  end(): void {
    if (!this.#held) return;
    this.#write(join(this.#held, new Uint8Array([NEWLINE])));
    this.#held = undefined;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
