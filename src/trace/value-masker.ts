import { bytesFrom, concatBytes, EMPTY, utf8 } from "./bytes.ts";
import { candidateScanner } from "./candidates.ts";
import { needleSearch } from "./needles.ts";
import { holdFrom, holdingFilter, type ScanResult, type StreamFilter } from "./stream-filter.ts";

const MASK = utf8("[MASKED]");

/**
 * The search for `prefixes` (case-insensitively: the URL parameters). Building it is the costly
 * part of a masker (the token prefixes' tail automaton: ~1-2 ms on a cold start), so a job's
 * maskers share one; undefined when there is nothing to find.
 */
export function prefixFinder(options: { prefixes: readonly string[]; caseInsensitive?: boolean }): PrefixFinder | undefined {
  const prefixes = options.prefixes.map((p) => utf8(options.caseInsensitive ? p.toLowerCase() : p));
  if (prefixes.length === 0) return undefined;
  return options.caseInsensitive ? foldedFinder(prefixes) : exactFinder(prefixes);
}

/**
 * Keeps each prefix `prefixes` finds visible and replaces the run of value bytes that follows it
 * with `[MASKED]` (written when the run ends, or at the end of the stream). A run of length zero is
 * left alone. Works across writes: a prefix split between writes is held, a run spanning writes is
 * dropped.
 */
export function valueMasker(options: {
  prefixes: PrefixFinder | undefined;
  isValueByte: (byte: number) => boolean;
  /**
   * Whether a `[MASKED]` inside the run is part of it: a token holding a short masked value comes
   * here as `glpat-ab[MASKED]CdEf`, and all of it is the token.
   */
  absorbMasks?: boolean;
}): StreamFilter {
  const finder = options.prefixes;
  if (!finder) return { write: (chunk) => chunk, end: () => EMPTY };
  let masking = false;
  let sawValue = false;

  /** Masks `data`; unless `final`, a possible prefix at the end is held back for the next write. */
  const scan = (data: Uint8Array, final: boolean): ScanResult => {
    const out: Uint8Array[] = [];
    const find = finder(data, final);
    let last = 0;
    let i = 0;
    while (i < data.length) {
      if (masking) {
        let j = i;
        for (;;) {
          while (j < data.length && options.isValueByte(data[j]!)) j++;
          if (!options.absorbMasks || !startsWithAt(data, j, MASK)) break;
          j += MASK.length;
        }
        if (j > i) sawValue = true;
        last = j;
        if (j === data.length) return { output: concatBytes(out), held: EMPTY };
        if (sawValue) out.push(MASK);
        masking = sawValue = false;
        i = j;
        continue;
      }
      const hit = find(i);
      if (hit === undefined) break;
      if (hit.kind === "partial") return holdFrom(out, data, last, hit.at);
      i = hit.at + hit.length;
      out.push(data.subarray(last, i));
      last = i;
      masking = true;
    }
    out.push(bytesFrom(data, last));
    return { output: concatBytes(out), held: EMPTY };
  };

  return holdingFilter(scan, () => {
    const mask = masking && sawValue ? MASK : EMPTY;
    masking = sawValue = false;
    return mask;
  });
}

function startsWithAt(data: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > data.length) return false;
  for (let k = 0; k < bytes.length; k++) if (data[at + k] !== bytes[k]) return false;
  return true;
}

/** The next prefix in a chunk: a full one, or (unless final) one the chunk's end cuts short. */
type Hit = { kind: "full"; at: number; length: number } | { kind: "partial"; at: number };
/** Where the prefixes of a {@link valueMasker} are in a chunk; made once, shared by every stream's masker. */
export type PrefixFinder = (data: Uint8Array, final: boolean) => (from: number) => Hit | undefined;

/** Case-sensitive prefixes, searched whole with the native search. */
function exactFinder(prefixes: readonly Uint8Array[]): PrefixFinder {
  const search = needleSearch(prefixes);
  return (data, final) => {
    const next = search.scanner(data);
    return (from) => {
      const full = next(from);
      const tail = final ? -1 : search.partialTail(data, from);
      if (tail !== -1 && (full === undefined || tail < full.at)) return { kind: "partial", at: tail };
      return full && { kind: "full", at: full.at, length: full.length };
    };
  };
}

/** Case-insensitive prefixes (URL parameters), found from their rare first bytes (`?`, `&`). */
function foldedFinder(prefixes: readonly Uint8Array[]): PrefixFinder {
  const firstBytes = [...new Set(prefixes.flatMap((p) => [p[0]!, toUpperByte(p[0]!)]))];
  return (data, final) => {
    const next = candidateScanner(data, firstBytes);
    return (from) => {
      for (let i = next(from); i !== -1; i = next(i + 1)) {
        const match = longestPrefixAt(data, i, prefixes, toLowerByte);
        if (match === "partial") {
          if (!final) return { kind: "partial", at: i };
        } else if (match > 0) {
          return { kind: "full", at: i, length: match };
        }
      }
      return undefined;
    };
  };
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
