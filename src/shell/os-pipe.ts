/**
 * Anonymous pipes of the operating system, for a child's standard output. Bun (as libuv) gives a
 * child a unix socket for "pipe", and on Linux a socket cannot be opened again by name: a job's
 * `echo hi > /dev/stdout` or `tee /dev/stderr` fails with "No such device or address", where GitLab
 * Runner's shell executor (Go's os/exec) gives a pipe and it works. A pipe also costs the job's
 * writers and the runner's reader less than a socket (docs/processes.md, "A stage's output").
 */
import { closeSync } from "node:fs";

/** The two ends of a pipe; both close on exec, so no other child inherits them. */
export interface OsPipe {
  readonly read: number;
  readonly write: number;
}

/** `O_CLOEXEC`, the same on Linux's x86-64 and arm64. */
const O_CLOEXEC = 0o2000000;

type Pipe2 = (fds: Int32Array) => number;

/**
 * libc's `pipe2`, reached once a process through bun:ffi (0.8 ms the first time, 0.05 ms a pipe
 * after); null where it cannot be (not Linux, no FFI). Kept for the process as the module cache
 * keeps a module: it is the same function every time, not state any caller could see change.
 */
let loaded: Pipe2 | null | undefined;

/** A new pipe, or undefined where this system's pipes cannot be reached (the caller keeps Bun's socket). */
export function openOsPipe(): OsPipe | undefined {
  loaded ??= loadPipe2();
  if (!loaded) return undefined;
  const fds = new Int32Array(2);
  if (loaded(fds) !== 0) return undefined;
  return { read: fds[0]!, write: fds[1]! };
}

function loadPipe2(): Pipe2 | null {
  if (process.platform !== "linux") return null;
  try {
    // musl's loader answers any "libc.so…" with itself, so one name serves glibc and musl builds.
    const { dlopen, ptr } = require("bun:ffi") as typeof import("bun:ffi");
    const libc = dlopen("libc.so.6", { pipe2: { args: ["ptr", "i32"], returns: "i32" } });
    return (fds) => libc.symbols.pipe2(ptr(fds), O_CLOEXEC);
  } catch {
    return null;
  }
}

/** Closes `fd`; one already closed is no error. Each number is closed once by its owner: closed twice, it may by then be another file's. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}
