import { indexOfBytes } from "./bytes.ts";
import { LOOKED_TAIL_LIMIT, LookedTails } from "./looked-tails.ts";
import { NeedleAutomaton } from "./needle-automaton.ts";
import type { Needles, NeedleScanner } from "./needle-types.ts";

/**
 * Up to this many needles in this many distinct two-byte heads, one native search per head beats
 * the one-pass automaton (bench/masker.ts); beyond, the native search's cost grows with the
 * needles, the automaton's does not.
 */
const MAX_NATIVE_HEADS = 8;
const MAX_NATIVE_NEEDLES = 16;

/** The faster search for these needles: native searches for few, the automaton for many. */
export function needleSearch(needles: readonly Uint8Array[]): Needles {
  const native = needles.length <= MAX_NATIVE_NEEDLES && headsOf(needles).length <= MAX_NATIVE_HEADS;
  return native ? new HeadSearch(needles) : new NeedleAutomaton(needles);
}

/** The longest head a group's search uses: long enough to be rare, short enough for the native search. */
const MAX_HEAD = 16;

/**
 * Needles grouped by their first two bytes (GitLab's token prefixes nearly all begin `gl`), each
 * group searched for by what all its needles have in common from their start: a lone masked value by
 * itself (up to {@link MAX_HEAD} bytes), not by two bytes that ordinary output holds every few
 * hundred bytes (each such place was a failed comparison and a new search: 0.57 of 3.6 s of a
 * profile of 512 MiB with three random masked values).
 */
function headsOf(needles: readonly Uint8Array[]): { head: Uint8Array; needles: Uint8Array[] }[] {
  const groups = new Map<string, Uint8Array[]>();
  for (const needle of needles) {
    const key = needle.subarray(0, Math.min(2, needle.length)).join(",");
    groups.set(key, [...(groups.get(key) ?? []), needle]);
  }
  return [...groups.values()].map((group) => ({ head: group[0]!.subarray(0, commonStart(group)), needles: group }));
}

/** How many first bytes all of `needles` share, at most {@link MAX_HEAD}. */
function commonStart(needles: readonly Uint8Array[]): number {
  let length = Math.min(MAX_HEAD, ...needles.map((n) => n.length));
  for (const needle of needles) {
    let k = 0;
    while (k < length && needle[k] === needles[0]![k]) k++;
    length = k;
  }
  return length;
}

/**
 * Finding any of several byte strings ("needles") in a chunk with the runtime's native search.
 * Needles are searched whole; only the last bytes of a chunk are looked at byte by byte, for a
 * needle that may continue in the next chunk.
 */
export class HeadSearch implements Needles {
  readonly needles: readonly Uint8Array[];
  /**
   * A chunk's last bytes: looked at directly for short needles, else by the automaton; either way
   * the cost does not grow with the output.
   */
  readonly #tails: Pick<Needles, "couldGrow" | "partialTail">;

  readonly #heads: readonly { head: Uint8Array; needles: readonly Uint8Array[] }[];

  constructor(needles: readonly Uint8Array[]) {
    this.needles = [...needles].sort((a, b) => b.length - a.length);
    this.#tails = (this.needles[0]?.length ?? 0) <= LOOKED_TAIL_LIMIT ? new LookedTails(this.needles) : new NeedleAutomaton(this.needles);
    this.#heads = headsOf(this.needles);
  }

  /**
   * A scanner over `data` that yields full matches in order, earliest first, longest at a position.
   * Needles are grouped by their first two bytes (GitLab's token prefixes nearly all begin `gl`):
   * one native search per group finds the places where any of its needles may start.
   */
  scanner(data: Uint8Array): NeedleScanner {
    const heads = this.#heads;
    // No view of the chunk: a view made for each search was over a third of a loud trace's masking
    // time (bench/trace-pipeline.ts), and even one a chunk makes the runtime create its ArrayBuffer.
    const next = heads.map((h) => indexOfBytes(data, h.head, 0));
    return (from) => {
      for (;;) {
        let group = -1;
        for (let k = 0; k < heads.length; k++) {
          let at = next[k]!;
          if (at !== -1 && at < from) next[k] = at = indexOfBytes(data, heads[k]!.head, from);
          if (at !== -1 && (group === -1 || at < next[group]!)) group = k;
        }
        if (group === -1) return undefined;
        const at = next[group]!;
        for (const needle of heads[group]!.needles) {
          if (needle.length <= data.length - at && startsWith(data, at, needle, needle.length)) return { at, length: needle.length };
        }
        // No needle of the group is whole here: look again after this place, for this group only.
        next[group] = indexOfBytes(data, heads[group]!.head, at + 1);
      }
    };
  }

  couldGrow(data: Uint8Array, at: number, than: number): boolean {
    return this.#tails.couldGrow(data, at, than);
  }

  partialTail(data: Uint8Array, from: number): number {
    return this.#tails.partialTail(data, from);
  }
}

function startsWith(data: Uint8Array, at: number, needle: Uint8Array, length: number): boolean {
  for (let k = 0; k < length; k++) if (data[at + k] !== needle[k]) return false;
  return true;
}
