import { closeQuietly, openOsPipe, type OsPipe } from "./os-pipe.ts";

/**
 * Where a child's standard output and error go: pipes of the operating system where they can be
 * had (os-pipe.ts says why), else Bun's own sockets. With `shared`, standard error is the very pipe
 * of standard output, as GitLab Runner's shell executor gives both to one writer (Go's os/exec then
 * makes one pipe): what the child writes to either comes in the order it was written.
 */
export class ChildOutput {
  readonly #stdout: OsPipe | undefined;
  readonly #stderr: OsPipe | undefined;
  readonly #shared: boolean;
  #writeEndsOpen = true;
  #readEndsOpen = true;

  constructor(options: { shared: boolean }) {
    this.#stdout = openOsPipe();
    this.#shared = options.shared && this.#stdout !== undefined;
    this.#stderr = this.#stdout && !this.#shared ? openOsPipe() : undefined;
  }

  /**
   * Starts `argv` with this output as its fd 1 and fd 2. Once it has started, or failed to, the
   * runner's copies of the write ends are closed, so that a stream ends when the child and whatever
   * it started have closed theirs; a child that failed to start leaves no read end open either.
   */
  spawn<Stdin extends "pipe" | "ignore">(argv: readonly string[], options: { stdin: Stdin; cwd?: string; env?: Record<string, string>; detached?: boolean }): Bun.Subprocess<Stdin, "pipe" | number, "pipe" | number> {
    try {
      return Bun.spawn([...argv], { ...options, ...this.#spawnOptions }) as Bun.Subprocess<Stdin, "pipe" | number, "pipe" | number>;
    } catch (error) {
      this.close();
      throw error;
    } finally {
      this.#spawned();
    }
  }

  /** What Bun.spawn is given for the child's fd 1 and fd 2. */
  get #spawnOptions(): { stdout: number | "pipe"; stderr: number | "pipe" } {
    return {
      stdout: this.#stdout?.write ?? "pipe",
      stderr: this.#shared ? this.#stdout!.write : (this.#stderr?.write ?? "pipe"),
    };
  }

  #spawned(): void {
    if (!this.#writeEndsOpen) return;
    this.#writeEndsOpen = false;
    if (this.#stdout) closeQuietly(this.#stdout.write);
    if (this.#stderr) closeQuietly(this.#stderr.write);
  }

  /** The streams to read: a pipe's, or the socket Bun made (the child's own); none for a shared stderr. */
  streams(child: { readonly stdout: unknown; readonly stderr: unknown }): {
    stdout: ReadableStream<Uint8Array>;
    stderr: ReadableStream<Uint8Array> | undefined;
  } {
    return {
      stdout: this.#stdout ? Bun.file(this.#stdout.read).stream() : (child.stdout as ReadableStream<Uint8Array>),
      stderr: this.#shared ? undefined : this.#stderr ? Bun.file(this.#stderr.read).stream() : (child.stderr as ReadableStream<Uint8Array>),
    };
  }

  /** Closes the read ends, once their streams have ended or been canceled (Bun leaves an fd it was given open). */
  close(): void {
    // Once only: a number closed twice may by then be another file's.
    if (!this.#readEndsOpen) return;
    this.#readEndsOpen = false;
    if (this.#stdout) closeQuietly(this.#stdout.read);
    if (this.#stderr) closeQuietly(this.#stderr.read);
  }
}
