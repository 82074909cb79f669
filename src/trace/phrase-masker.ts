import { bytesFrom, concatBytes, EMPTY, utf8 } from "./bytes.ts";
import { needleSearch } from "./needles.ts";
import type { Needles } from "./needle-types.ts";
import { holdFrom, holdingFilter, type ScanResult, type StreamFilter } from "./stream-filter.ts";

const MASK = utf8("[MASKED]");

/** GitLab's shortest maskable value (8 characters); shorter lines of a secret are not masked alone. */
const MIN_LINE_LENGTH = 8;

/**
 * Replaces every occurrence of the given phrases with `[MASKED]`, longest phrase first, also when a
 * phrase is split across writes: bytes that could still become a phrase are held until they can't.
 * Phrases are trimmed, deduplicated, and empty ones dropped (docs/protocol.md §10). A multi-line
 * value (GitLab refuses to mask one; a runner still receives them, and local secrets files hold
 * keys) is masked whole and line by line, every line of 8 characters or more: a job printing one
 * line of a private key shows `[MASKED]`.
 */
export function phraseMasker(phrases: readonly string[]): StreamFilter {
  return phraseMaskerWith(phraseSearch(phrases));
}

/**
 * The search for `phrases` (and each 8-character line of a multi-line one), built once and shared
 * by every masker of a job: with thousands of masked values it is the masker's memory (8,000 random
 * values: ~60 MB, 200 ms to build). Undefined when there is nothing to mask.
 */
export function phraseSearch(phrases: readonly string[]): Needles | undefined {
  const lines = phrases.filter((p) => p.includes("\n")).flatMap((p) => p.split(/\r?\n/)).filter((l) => l.trim().length >= MIN_LINE_LENGTH);
  const unique = [...new Set([...phrases, ...lines].map((p) => p.trim()).filter((p) => p.length > 0))];
  return unique.length === 0 ? undefined : needleSearch(unique.map(utf8));
}

/** A phrase masker over a search made by {@link phraseSearch}; its state is its own. */
export function phraseMaskerWith(search: Needles | undefined): StreamFilter {
  if (search === undefined) return { write: (chunk) => chunk, end: () => EMPTY };

  /** Masks `data`; unless `final`, a possible phrase at the end is held back for the next write. */
  const scan = (data: Uint8Array, final: boolean): ScanResult => {
    const out: Uint8Array[] = [];
    const next = search.scanner(data);
    let last = 0;
    for (let match = next(0); match !== undefined; match = next(last)) {
      // A longer phrase may still complete here with the next write: hold from here.
      if (!final && search.couldGrow(data, match.at, match.length)) return holdFrom(out, data, last, match.at);
      out.push(data.subarray(last, match.at), MASK);
      last = match.at + match.length;
    }
    const tail = final ? -1 : search.partialTail(data, last);
    if (tail !== -1) return holdFrom(out, data, last, tail);
    out.push(bytesFrom(data, last));
    return { output: concatBytes(out), held: EMPTY };
  };

  return holdingFilter(scan);
}
