import { isUtf8 } from "node:buffer";
import { concatBytes, EMPTY } from "./bytes.ts";

const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);

/**
 * Makes a byte stream valid UTF-8 as GitLab Runner's trace does (golang.org/x/text
 * `encoding.Replacement` encoder over `utf8.DecodeRune`): every byte that does not start a valid
 * sequence becomes one U+FFFD, so `E2 82 41` is `FFFD FFFD A` (a WHATWG decoder would make it one
 * FFFD). A sequence split between writes waits for its end; `end()` replaces what never ended.
 */
export class Utf8Repairer {
  #held: Uint8Array = EMPTY;

  write(bytes: Uint8Array): Uint8Array {
    if (this.#held.length === 0 && isUtf8(bytes)) return bytes;
    const data = this.#held.length > 0 ? concatBytes([this.#held, bytes]) : bytes;
    this.#held = EMPTY;
    return this.#repair(data, false);
  }

  /** What a split sequence left, replaced byte by byte. */
  end(): Uint8Array {
    const held = this.#held;
    this.#held = EMPTY;
    return held.length === 0 ? EMPTY : this.#repair(held, true);
  }

  #repair(data: Uint8Array, atEnd: boolean): Uint8Array {
    const out: Uint8Array[] = [];
    let start = 0;
    let i = 0;
    while (i < data.length) {
      if (data[i]! < 0x80) {
        i++;
        continue;
      }
      const size = validSequenceLength(data, i);
      if (size > 0) {
        i += size;
        continue;
      }
      if (!atEnd && !fullRune(data, i)) {
        this.#held = data.slice(i);
        break;
      }
      out.push(data.subarray(start, i), REPLACEMENT);
      i++;
      start = i;
    }
    out.push(data.subarray(start, this.#held.length > 0 ? data.length - this.#held.length : data.length));
    return concatBytes(out);
  }
}

/** The accepted range of the second byte after each lead byte (Go's `acceptRanges`), and the sequence length. */
function leadInfo(lead: number): { length: number; low: number; high: number } | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return { length: 2, low: 0x80, high: 0xbf };
  if (lead === 0xe0) return { length: 3, low: 0xa0, high: 0xbf };
  if (lead === 0xed) return { length: 3, low: 0x80, high: 0x9f };
  if (lead >= 0xe1 && lead <= 0xef) return { length: 3, low: 0x80, high: 0xbf };
  if (lead === 0xf0) return { length: 4, low: 0x90, high: 0xbf };
  if (lead === 0xf4) return { length: 4, low: 0x80, high: 0x8f };
  if (lead >= 0xf1 && lead <= 0xf3) return { length: 4, low: 0x80, high: 0xbf };
  return undefined;
}

/** The length of the valid multi-byte sequence at `at`, or 0 (Go's `utf8.DecodeRune` giving size 1). */
function validSequenceLength(data: Uint8Array, at: number): number {
  const info = leadInfo(data[at]!);
  if (!info || at + info.length > data.length) return 0;
  const second = data[at + 1]!;
  if (second < info.low || second > info.high) return 0;
  for (let k = 2; k < info.length; k++) if ((data[at + k]! & 0xc0) !== 0x80) return 0;
  return info.length;
}

/** Go's `utf8.FullRune`: whether the bytes at `at` are a whole sequence, or can never become a valid one. */
function fullRune(data: Uint8Array, at: number): boolean {
  const info = leadInfo(data[at]!);
  if (!info) return true;
  const have = data.length - at;
  if (have >= info.length) return true;
  if (have >= 2) {
    const second = data[at + 1]!;
    if (second < info.low || second > info.high) return true;
  }
  if (have >= 3 && (data[at + 2]! & 0xc0) !== 0x80) return true;
  return false;
}
