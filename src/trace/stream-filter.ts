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

/**
 * A filter that may hold back the tail of its input until the next write. `scan` sees the held
 * bytes followed by the new chunk; with `final` set no more input will come, so it must hold
 * nothing. `finish` adds what the filter owes at the very end (say, a pending mask).
 */
export function holdingFilter(
  scan: (data: Uint8Array, final: boolean) => ScanResult,
  finish: () => Uint8Array = () => new Uint8Array(0),
): StreamFilter {
  let held: Uint8Array = new Uint8Array(0);
  return {
    write(chunk) {
      const result = scan(held.length > 0 ? join(held, chunk) : chunk, false);
      held = result.held;
      return result.output;
    },
    end() {
      const result = held.length > 0 ? scan(held, true) : { output: held, held };
      held = new Uint8Array(0);
      return join(result.output, finish());
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
      let tail = new Uint8Array(0) as Uint8Array;
      for (const filter of filters) {
        const written = tail.length > 0 ? filter.write(tail) : tail;
        const ended = filter.end();
        tail = join(written, ended);
      }
      return tail;
    },
  };
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
