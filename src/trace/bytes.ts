export const EMPTY = new Uint8Array(0);

/** Concatenates byte arrays without copying when there is only one non-empty part. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  // Counted in a loop, not filtered: this runs several times for each chunk of a job's output.
  let length = 0;
  let nonEmpty = 0;
  let only: Uint8Array = EMPTY;
  for (const part of parts) {
    if (part.length === 0) continue;
    length += part.length;
    nonEmpty++;
    only = part;
  }
  if (nonEmpty <= 1) return only;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `data` from `from` on: `data` itself from 0 (a filter that found nothing in a chunk passes it on whole, no view made). */
export function bytesFrom(data: Uint8Array, from: number): Uint8Array {
  return from === 0 ? data : data.subarray(from);
}

const bufferIndexOf = Buffer.prototype.indexOf;
const bufferCopy = Buffer.prototype.copy;

/**
 * `Buffer#indexOf` (the runtime's native search) on any byte array, without a Buffer view of it: a
 * chunk from a pipe is a plain Uint8Array, and a view of it makes the runtime create its
 * ArrayBuffer first (~2 µs a chunk, at every filter of a loud job's trace; bench/trace-pipeline.ts).
 */
export function indexOfBytes(data: Uint8Array, value: Uint8Array | number, from = 0): number {
  return bufferIndexOf.call(data as Buffer, value, from);
}

/** `Buffer#copy` of `data[start, end)` into `target` at `at`, on any byte array (as {@link indexOfBytes}). */
export function copyBytes(data: Uint8Array, target: Uint8Array, at: number, start: number, end: number): number {
  return bufferCopy.call(data as Buffer, target, at, start, end);
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
