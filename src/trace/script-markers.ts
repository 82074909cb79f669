import { bytesFrom, concatBytes, EMPTY, indexOfBytes, utf8 } from "./bytes.ts";
import { holdFrom, holdingFilter, type ScanResult, type StreamFilter } from "./stream-filter.ts";

/** The invisible mark a stage script prints before its N-th user command (an OSC sequence). */
export const MARK_PREFIX = "\x1b]7711;runner-line=";
const PREFIX = utf8(MARK_PREFIX);
const BELL = 0x07;
const ESCAPE = 0x1b;
const MAX_DIGITS = 6;

/** The text of the mark for command `index` (1-based). */
export function scriptLineMark(index: number): string {
  return `${MARK_PREFIX}${index}\x07`;
}

/**
 * Takes the runner's script-line marks out of a stage's output (they never reach the trace) and
 * reports each with its number, also when a mark is split between writes. The output before a mark
 * is handed over with it (`before`), so that it is counted against the line it belongs to; the
 * filter's own output is what follows the last mark.
 */
export function scriptMarkFilter(onMark: (index: number, before: Uint8Array) => void): StreamFilter {
  const scan = (data: Uint8Array, final: boolean): ScanResult => {
    const out: Uint8Array[] = [];
    let last = 0;
    for (let at = indexOfBytes(data, PREFIX); at !== -1; at = indexOfBytes(data, PREFIX, last)) {
      const digitsFrom = at + PREFIX.length;
      const bell = indexOfBytes(data, BELL, digitsFrom);
      if (bell === -1 || bell - digitsFrom > MAX_DIGITS) {
        if (!final && data.length - digitsFrom <= MAX_DIGITS) return holdFrom(out, data, last, at);
        // Not a mark after all: keep the bytes.
        out.push(data.subarray(last, digitsFrom));
        last = digitsFrom;
        continue;
      }
      out.push(data.subarray(last, at));
      onMark(Number(new TextDecoder().decode(data.subarray(digitsFrom, bell))), concatBytes(out.splice(0)));
      last = bell + 1;
    }
    // The end of the chunk may hold the start of a mark: it begins at an ESC (the prefix's only
    // one) among the last bytes. Looked for byte by byte: a comparison of views at each length
    // cost a loud job's trace ~40 views a chunk.
    if (!final) {
      for (let from = Math.max(last, data.length - (PREFIX.length - 1)); from < data.length; from++) {
        if (data[from] === ESCAPE && startsPrefix(data, from)) return holdFrom(out, data, last, from);
      }
    }
    out.push(bytesFrom(data, last));
    return { output: concatBytes(out), held: EMPTY };
  };
  return holdingFilter(scan);
}

/** Whether the bytes of `data` from `from` to its end are the beginning of the mark's prefix. */
function startsPrefix(data: Uint8Array, from: number): boolean {
  for (let k = from; k < data.length; k++) if (data[k] !== PREFIX[k - from]) return false;
  return true;
}
