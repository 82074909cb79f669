import { concatBytes, EMPTY, utf8 } from "./bytes.ts";
import { holdingFilter, type ScanResult, type StreamFilter } from "./stream-filter.ts";

const MASK = utf8("[MASKED]");

/**
 * Keeps each of `prefixes` visible and replaces the run of value bytes that follows it with
 * `[MASKED]` (written when the run ends, or at the end of the stream). A run of length zero is left
 * alone. Works across writes: a prefix split between writes is held, a run spanning writes is dropped.
 */
export function valueMasker(options: {
  prefixes: readonly string[];
  isValueByte: (byte: number) => boolean;
  caseInsensitive?: boolean;
}): StreamFilter {
  const fold = options.caseInsensitive ? toLowerByte : (b: number) => b;
  const prefixes = options.prefixes.map((p) => utf8(options.caseInsensitive ? p.toLowerCase() : p));
  if (prefixes.length === 0) return { write: (chunk) => chunk, end: () => EMPTY };
  const startsPrefix = new Uint8Array(256);
  for (const prefix of prefixes) {
    startsPrefix[prefix[0]!] = 1;
    if (options.caseInsensitive) startsPrefix[prefix[0]!] = startsPrefix[toUpperByte(prefix[0]!)] = 1;
  }
  let masking = false;
  let sawValue = false;

  /** Masks `data`; unless `final`, a possible prefix at the end is held back for the next write. */
  const scan = (data: Uint8Array, final: boolean): ScanResult => {
    const out: Uint8Array[] = [];
    let last = 0;
    let i = 0;
    while (i < data.length) {
      if (masking) {
        let j = i;
        while (j < data.length && options.isValueByte(data[j]!)) j++;
        if (j > i) sawValue = true;
        last = j;
        if (j === data.length) return { output: concatBytes(out), held: EMPTY };
        if (sawValue) out.push(MASK);
        masking = sawValue = false;
        i = j;
        continue;
      }
      if (startsPrefix[data[i]!] === 0) {
        i++;
        continue;
      }
      const match = longestPrefixAt(data, i, prefixes, fold);
      if (match === "partial" && !final) {
        out.push(data.subarray(last, i));
        return { output: concatBytes(out), held: data.slice(i) };
      }
      if (typeof match === "number" && match > 0) {
        i += match;
        out.push(data.subarray(last, i));
        last = i;
        masking = true;
        continue;
      }
      i++;
    }
    out.push(data.subarray(last));
    return { output: concatBytes(out), held: EMPTY };
  };

  return holdingFilter(scan, () => {
    const mask = masking && sawValue ? MASK : EMPTY;
    masking = sawValue = false;
    return mask;
  });
}

/** The length of the longest prefix at `at`, `"partial"` when one may complete with more data, else 0. */
function longestPrefixAt(
  data: Uint8Array,
  at: number,
  prefixes: readonly Uint8Array[],
  fold: (b: number) => number,
): number | "partial" {
  let best = 0;
  let partial = false;
  for (const prefix of prefixes) {
    const available = Math.min(prefix.length, data.length - at);
    let k = 0;
    while (k < available && fold(data[at + k]!) === prefix[k]) k++;
    if (k === prefix.length) best = Math.max(best, k);
    else if (k === available) partial = true;
  }
  if (partial && best === 0) return "partial";
  return best;
}

function toLowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

function toUpperByte(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}
