/** The earliest match at or after `from` (the longest one at that place), or undefined if none. */
export type NeedleScanner = (from: number) => { at: number; length: number } | undefined;

/** A search for any of several byte strings ("needles") in a chunk, for the streaming maskers. */
export interface Needles {
  /** The needles, longest first. */
  readonly needles: readonly Uint8Array[];
  /** A scanner over `data`; calls must come with `from` not decreasing. */
  scanner(data: Uint8Array): NeedleScanner;
  /** Whether `data[at…]` is a proper prefix of a needle longer than `than`: it may still grow into one. */
  couldGrow(data: Uint8Array, at: number, than: number): boolean;
  /** The first position ≥ `from` whose remaining bytes begin some needle (and end the chunk); -1 if none. */
  partialTail(data: Uint8Array, from: number): number;
}
