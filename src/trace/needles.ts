/**
 * Finding any of several byte strings ("needles") in a chunk with the runtime's native search,
 * for the streaming maskers. Needles are searched whole; only the last bytes of a chunk are looked
 * at byte by byte, for a needle that may continue in the next chunk.
 */
export class NeedleSearch {
  readonly needles: readonly Uint8Array[];
  readonly #maxLength: number;

  constructor(needles: readonly Uint8Array[]) {
    this.needles = [...needles].sort((a, b) => b.length - a.length);
    this.#maxLength = this.needles[0]?.length ?? 0;
  }

  /** A scanner over `data` that yields full matches in order, earliest first, longest at a position. */
  scanner(data: Uint8Array): (from: number) => { at: number; length: number } | undefined {
    const next = this.needles.map((n) => indexOf(data, n, 0));
    return (from) => {
      let best: { at: number; length: number } | undefined;
      for (let k = 0; k < this.needles.length; k++) {
        let at = next[k]!;
        if (at !== -1 && at < from) next[k] = at = indexOf(data, this.needles[k]!, from);
        if (at === -1) continue;
        if (best === undefined || at < best.at) best = { at, length: this.needles[k]!.length };
      }
      return best;
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
