/**
 * Finds, in `data`, the next position at or after `from` holding one of `bytes`, with the runtime's
 * native `indexOf` (a vectorised memchr) rather than a loop over every byte in JavaScript. The next
 * hit of each byte is remembered, so a scan costs one search per hit. -1 when there is none.
 */
export function candidateScanner(data: Uint8Array, bytes: readonly number[]): (from: number) => number {
  const next = bytes.map((b) => data.indexOf(b));
  return (from) => {
    let best = -1;
    for (let k = 0; k < bytes.length; k++) {
      let at = next[k]!;
      if (at !== -1 && at < from) next[k] = at = data.indexOf(bytes[k]!, from);
      if (at !== -1 && (best === -1 || at < best)) best = at;
    }
    return best;
  };
}
