import { concatBytes, EMPTY, utf8 } from "./bytes.ts";
import { holdingFilter, type ScanResult, type StreamFilter } from "./stream-filter.ts";

const MASK = utf8("[MASKED]");

/**
 * Replaces every occurrence of the given phrases with `[MASKED]`, longest phrase first, also when a
 * phrase is split across writes: bytes that could still become a phrase are held until they can't.
 * Phrases are trimmed, deduplicated, and empty ones dropped (gitlab-protocol.md §10).
 */
export function phraseMasker(phrases: readonly string[]): StreamFilter {
  const unique = [...new Set(phrases.map((p) => p.trim()).filter((p) => p.length > 0))];
  const needles = unique.map(utf8).sort((a, b) => b.length - a.length);
  if (needles.length === 0) return { write: (chunk) => chunk, end: () => EMPTY };
  const startsNeedle = new Uint8Array(256);
  for (const needle of needles) startsNeedle[needle[0]!] = 1;
  /** Masks `data`; unless `final`, a possible phrase at the end is held back for the next write. */
  const scan = (data: Uint8Array, final: boolean): ScanResult => {
    const out: Uint8Array[] = [];
    let last = 0;
    let i = 0;
    scan: while (i < data.length) {
      if (startsNeedle[data[i]!] === 0) {
        i++;
        continue;
      }
      for (const needle of needles) {
        const match = matchAt(data, i, needle);
        if (match === "full") {
          out.push(data.subarray(last, i), MASK);
          i += needle.length;
          last = i;
          continue scan;
        }
        if (match === "partial" && !final) {
          // A longer phrase may still complete here: hold everything from i until more bytes come.
          out.push(data.subarray(last, i));
          return { output: concatBytes(out), held: data.slice(i) };
        }
      }
      i++;
    }
    out.push(data.subarray(last));
    return { output: concatBytes(out), held: EMPTY };
  };

  return holdingFilter(scan);
}
/** Whether `needle` is at `data[at]`: fully, only as far as `data` goes, or not at all. */
function matchAt(data: Uint8Array, at: number, needle: Uint8Array): "full" | "partial" | "none" {
  const available = Math.min(needle.length, data.length - at);
  for (let k = 0; k < available; k++) if (data[at + k] !== needle[k]) return "none";
  return available === needle.length ? "full" : "partial";
}
