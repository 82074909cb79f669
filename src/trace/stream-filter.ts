/**
 * A streaming byte transform that may hold back a partial match between writes. `write` returns the
 * bytes that are final; `end` releases whatever is still held.
 */
export interface StreamFilter {
  write(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
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
