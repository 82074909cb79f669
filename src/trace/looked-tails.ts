import type { Needles } from "./needle-types.ts";

/** The longest needle whose tail questions are answered by looking rather than by an automaton. */
export const LOOKED_TAIL_LIMIT = 32;

/**
 * A chunk's tail questions (`couldGrow`, `partialTail`) for a few short needles (at most 16, each
 * at most {@link LOOKED_TAIL_LIMIT} bytes: GitLab's token prefixes, a job's usual secrets),
 * answered by holding the chunk's last bytes against the needles that begin with the same byte.
 * At most 31 places of a chunk's end are looked at, so the cost does not grow with the output;
 * building it is a grouping, where the automaton's tables cost 1-2 ms in a process's first job.
 */
export class LookedTails implements Pick<Needles, "couldGrow" | "partialTail"> {
  readonly #maxLength: number;
  readonly #byFirstByte = new Map<number, Uint8Array[]>();
  /** 1 for each byte some needle begins with: most places of a chunk's end are passed over on it alone. */
  readonly #begins = new Uint8Array(256);

  constructor(needles: readonly Uint8Array[]) {
    this.#maxLength = Math.max(0, ...needles.map((n) => n.length));
    for (const needle of needles) {
      if (needle.length === 0) continue;
      const group = this.#byFirstByte.get(needle[0]!) ?? [];
      group.push(needle);
      this.#byFirstByte.set(needle[0]!, group);
      this.#begins[needle[0]!] = 1;
    }
  }

  couldGrow(data: Uint8Array, at: number, than: number): boolean {
    const available = data.length - at;
    if (available >= this.#maxLength) return false;
    if (available <= 0) return this.#maxLength > than;
    return this.#beginsLonger(data, at, Math.max(than, available));
  }

  partialTail(data: Uint8Array, from: number): number {
    for (let at = Math.max(from, data.length - this.#maxLength + 1); at < data.length; at++) {
      if (this.#begins[data[at]!] === 1 && this.#beginsLonger(data, at, data.length - at)) return at;
    }
    return -1;
  }

  /** Whether a needle longer than `than` begins with all of `data[at…]`. */
  #beginsLonger(data: Uint8Array, at: number, than: number): boolean {
    const available = data.length - at;
    for (const needle of this.#byFirstByte.get(data[at]!) ?? []) {
      if (needle.length <= than) continue;
      let k = 1;
      while (k < available && data[at + k] === needle[k]) k++;
      if (k === available) return true;
    }
    return false;
  }
}
