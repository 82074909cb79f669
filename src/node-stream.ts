import type * as Stream from "node:stream";

/**
 * node:stream, loaded at the first call. A module's import of a built-in is loaded when the binary
 * starts, whichever module imports it and whether or not it ever runs: node:stream cost every
 * start ~2.5-3.7 ms (a compiled hello world importing it, 25 interleaved runs), and only the
 * executors that move streams of files (Docker, SSH, the file service) use its classes.
 */
export function nodeStream(): typeof Stream {
  return require("node:stream") as typeof Stream;
}
