import { concatBytes, utf8 } from "./bytes.ts";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const MAX_PARTIAL = 8 * 1024;
const LINE_END = new Uint8Array([NEWLINE]);

/**
 * GitLab Runner's timestamped log format for one stream (gitlab-protocol.md §9.4): every line starts
 * with `YYYY-MM-DDTHH:MM:SS.ffffffZ <id><O|E><' '|'+'>`. A write holding `\r` but no further `\n`
 * is flushed whole as one line (a progress bar, a section marker) and the next line on the stream
 * is marked `+`; a partial line is held up to 8 KiB, then flushed and continued with `+`.
 */
export class Timestamper {
  readonly #stream: string;
  readonly #write: (bytes: Uint8Array) => void;
  readonly #now: () => number;
  #held: Uint8Array[] = [];
  #heldLength = 0;
  #continuation = false;

  constructor(options: { id: number; type: "O" | "E"; write: (bytes: Uint8Array) => void; now?: () => number }) {
    this.#stream = options.id.toString(16).padStart(2, "0") + options.type;
    this.#write = options.write;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  write(data: Uint8Array): void {
    let n = 0;
    let newline = data.indexOf(NEWLINE);
    if (newline >= 0 && this.#heldLength > 0) {
      this.#flushHeld(data.subarray(0, newline + 1));
      n = newline + 1;
      newline = data.indexOf(NEWLINE, n);
    }
    while (newline >= 0) {
      this.#write(concatBytes([this.#header(), data.subarray(n, newline + 1)]));
      n = newline + 1;
      newline = data.indexOf(NEWLINE, n);
    }
    const rest = data.subarray(n);
    if (rest.length === 0) return;
    if (rest.includes(CARRIAGE_RETURN)) {
      if (this.#heldLength > 0) this.#flushHeld(rest, LINE_END);
      else this.#write(concatBytes([this.#header(), rest, LINE_END]));
      this.#continuation = true;
      return;
    }
    if (rest.length + this.#heldLength > MAX_PARTIAL) {
      if (this.#heldLength > 0) this.#flushHeld(rest, LINE_END);
      else this.#write(concatBytes([this.#header(), rest, LINE_END]));
      this.#continuation = true;
      return;
    }
    if (this.#heldLength === 0) this.#hold(this.#header());
    this.#hold(rest.slice());
  }

  /** Ends an unfinished line with a newline. */
  end(): void {
    if (this.#heldLength > 0) this.#flushHeld(LINE_END);
  }

  #hold(bytes: Uint8Array): void {
    this.#held.push(bytes);
    this.#heldLength += bytes.length;
  }

  #flushHeld(...more: Uint8Array[]): void {
    this.#write(concatBytes([...this.#held, ...more]));
    this.#held = [];
    this.#heldLength = 0;
  }

  #header(): Uint8Array {
    const flag = this.#continuation ? "+" : " ";
    this.#continuation = false;
    return utf8(`${formatTimestamp(this.#now())} ${this.#stream}${flag}`);
  }
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC with microseconds, from milliseconds since the epoch. */
export function formatTimestamp(epochMs: number): string {
  const iso = new Date(Math.floor(epochMs)).toISOString(); // …SS.mmmZ
  const micros = Math.floor((epochMs * 1000) % 1000).toString().padStart(3, "0");
  return `${iso.slice(0, 23)}${micros}Z`;
}
