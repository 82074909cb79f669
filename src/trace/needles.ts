/**
 * Finding any of several byte strings ("needles") in a chunk with the runtime's native search,
 * for the streaming maskers. Needles are searched whole; only the last bytes of a chunk are looked
 * at byte by byte, for a needle that may continue in the next chunk.
 */
export class NeedleSearch {
  readonly needles: readonly Uint8Array[];
  readonly #maxLength: number;

  readonly #heads: readonly { head: Uint8Array; needles: readonly Uint8Array[] }[];

  constructor(needles: readonly Uint8Array[]) {
    this.needles = [...needles].sort((a, b) => b.length - a.length);
    this.#maxLength = this.needles[0]?.length ?? 0;
    const groups = new Map<string, { head: Uint8Array; needles: Uint8Array[] }>();
    for (const needle of this.needles) {
      const head = needle.subarray(0, Math.min(2, needle.length));
      const key = head.join(",");
      const group = groups.get(key) ?? { head, needles: [] };
      group.needles.push(needle);
      groups.set(key, group);
    }
    this.#heads = [...groups.values()];
  }

  /**
   * A scanner over `data` that yields full matches in order, earliest first, longest at a position.
   * Needles are grouped by their first two bytes (GitLab's token prefixes nearly all begin `gl`):
   * one native search per group finds the places where any of its needles may start.
   */
  scanner(data: Uint8Array): (from: number) => { at: number; length: number } | undefined {
    const heads = this.#heads;
    const next = heads.map((h) => indexOf(data, h.head, 0));
    return (from) => {
      for (;;) {
        let group = -1;
        for (let k = 0; k < heads.length; k++) {
          let at = next[k]!;
          if (at !== -1 && at < from) next[k] = at = indexOf(data, heads[k]!.head, from);
          if (at !== -1 && (group === -1 || at < next[group]!)) group = k;
        }
        if (group === -1) return undefined;
        const at = next[group]!;
        for (const needle of heads[group]!.needles) {
          if (needle.length <= data.length - at && startsWith(data, at, needle, needle.length)) return { at, length: needle.length };
        }
        // No needle of the group is whole here: look again after this place, for this group only.
        next[group] = indexOf(data, heads[group]!.head, at + 1);
      }
    };
  }

  /** Whether `data[at…]` is a proper prefix of a needle longer than `than`: it may still grow into one. */
  couldGrow(data: Uint8Array, at: number, than: number): boolean {
    const available = data.length - at;
    for (const needle of this.needles) {
      if (needle.length <= than || needle.length <= available) continue;
      if (startsWith(data, at, needle, available)) return true;
    }
    return false;
  }

  /** The first position ≥ `from` whose remaining bytes begin some needle (and end the chunk); -1 if none. */
  partialTail(data: Uint8Array, from: number): number {
    for (let at = Math.max(from, data.length - this.#maxLength + 1); at < data.length; at++) {
      const available = data.length - at;
      for (const needle of this.needles) {
        if (needle.length > available && startsWith(data, at, needle, available)) return at;
      }
    }
    return -1;
  }
}

function startsWith(data: Uint8Array, at: number, needle: Uint8Array, length: number): boolean {
  for (let k = 0; k < length; k++) if (data[at + k] !== needle[k]) return false;
  return true;
}

/** Native search of a byte string (Buffer.indexOf) without copying either side. */
function indexOf(data: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(needle, from);
}
