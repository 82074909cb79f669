import { concatBytes, EMPTY } from "./bytes.ts";

/**
 * A streaming byte transform that may hold back a partial match between writes. `write` returns the
 * bytes that are final; `end` releases whatever is still held.
 */
export interface StreamFilter {
  write(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

/** What one scan of a holding filter gives: final bytes, and a tail held until more input comes. */
export interface ScanResult {
  readonly output: Uint8Array;
  readonly held: Uint8Array;
}

/** A scan's result that hands over `out` and `data[last, from)`, and holds `data` from `from` on. */
export function holdFrom(out: Uint8Array[], data: Uint8Array, last: number, from: number): ScanResult {
  out.push(data.subarray(last, from));
  return { output: concatBytes(out), held: data.slice(from) };
}

/**
 * A filter that may hold back the tail of its input until the next write. `scan` sees the held
 * bytes followed by the new chunk; with `final` set no more input will come, so it must hold
 * nothing. `finish` adds what the filter owes at the very end (say, a pending mask).
 */
export function holdingFilter(
  scan: (data: Uint8Array, final: boolean) => ScanResult,
  finish: () => Uint8Array = () => EMPTY,
): StreamFilter {
  let held: Uint8Array = EMPTY;
  return {
    write(chunk) {
      const result = scan(concatBytes([held, chunk]), false);
      held = result.held;
      return result.output;
    },
    end() {
      const result = held.length > 0 ? scan(held, true) : { output: held, held };
      held = EMPTY;
      return concatBytes([result.output, finish()]);
    },
  };
}

/** Chains filters, outermost first. */
export function chainFilters(filters: readonly StreamFilter[]): StreamFilter {
  return {
    write(chunk) {
      let data = chunk;
      for (const filter of filters) data = filter.write(data);
      return data;
    },
    end() {
      // Each filter's tail still has to pass through the filters after it.
      let tail: Uint8Array = EMPTY;
      for (const filter of filters) {
        const written = tail.length > 0 ? filter.write(tail) : tail;
        tail = concatBytes([written, filter.end()]);
      }
      return tail;
    },
  };
}
