import { fstatSync, writeSync } from "node:fs";

/**
 * What `runner exec` prints, written to its standard output or error (fd 1 or 2) with `write(2)`
 * directly. Bun makes `process.stdout` a stream object at first use, and making it cost a
 * trivial run ~4 ms (7 interleaved rounds against the build printing through it). Output order is
 * the calls' order. Should the descriptor be non-blocking and full (EAGAIN), this and every later
 * text goes through the process's stream instead, in order; should its reader be gone (EPIPE, say
 * `runner exec | head`) or a write be refused (a full disk), later texts are dropped: the run goes
 * on, its record keeps everything it can.
 */
export function descriptorWriter(fd: number, stream: () => NodeJS.WritableStream = () => (fd === 2 ? process.stderr : process.stdout)): (text: string) => void {
  let queued: NodeJS.WritableStream | undefined;
  let gone = false;
  return (text) => {
    if (gone || text.length === 0) return;
    if (queued) return void queued.write(text);
    const bytes = Buffer.from(text);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        queued = stream();
        queued.write(bytes.subarray(done));
        return;
      }
      // A reader gone (EPIPE) or a write refused (a full disk: ENOSPC, EFBIG): later texts are
      // dropped and the run goes on. Thrown, it stopped the reading of a stage's output, whose
      // shell then blocked for ever. A refused standard output is said once on standard error.
      gone = true;
      if (code !== "EPIPE" && fd === 1) {
        try {
          writeSync(2, `runner: standard output refused a write (${(error as Error).message}); later output is dropped, the run goes on\n`);
        } catch {
          // Standard error refuses too: nothing more can be said.
        }
      }
    }
  };
}

/**
 * Whether fd 1 or 2 is a terminal, asked without making the process's stream. A pipe, a file or
 * /dev/null (on Linux a character device of major 1, the memory devices) is none; only another
 * character device is asked of node:tty, which loads node:stream (~3 ms).
 */
export function isTerminal(fd: 1 | 2): boolean {
  let stat: ReturnType<typeof fstatSync>;
  try {
    stat = fstatSync(fd);
  } catch {
    return false;
  }
  if (!stat.isCharacterDevice()) return false;
  if (process.platform === "linux" && linuxMajor(stat.rdev) === 1) return false;
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** glibc's gnu_dev_major. */
function linuxMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
