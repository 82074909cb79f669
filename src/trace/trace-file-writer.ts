/**
 * The thread that writes trace buffers' files (trace-file-slots.ts says why), one for all the jobs
 * a daemon runs. It starts when a buffer first hands it a slot (a job's first 256 KiB of trace), and
 * keeps no process alive.
 */
import { SlotWrites, type SlotMessage } from "./trace-file-slots.ts";

/**
 * The worker's entry point. In the executable every module's `import.meta.url` is the bundle's,
 * and the worker is the build's second entry point, under its source path (scripts/build.ts).
 */
export function traceFileWorkerUrl(moduleUrl = import.meta.url): string {
  const here = new URL("./trace-file-worker.ts", moduleUrl).href;
  return moduleUrl.startsWith("file:///$bunfs/") ? "/$bunfs/root/src/trace/trace-file-worker.ts" : here;
}

export class TraceFileWriter {
  #worker: Worker | undefined;
  #closed = false;
  #failure: string | undefined;
  /** The last number given to a buffer. */
  #buffers = 0;

  /** Whether its thread has been started (by a buffer's first full slot). */
  get started(): boolean {
    return this.#worker !== undefined;
  }

  /** The background writes of one buffer's file. */
  writesFor(fd: number): SlotWrites {
    return new SlotWrites(fd, ++this.#buffers, (message) => this.#post(message));
  }

  /** Stops the thread; buffers still writing must have settled. */
  close(): void {
    this.#closed = true;
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  #post(message: SlotMessage): void {
    if (this.#closed) throw new Error("the trace file writer is closed");
    if (this.#failure) throw new Error(`the trace file could not be written: ${this.#failure}`);
    if (!this.#worker) {
      this.#worker = new Worker(traceFileWorkerUrl());
      this.#worker.addEventListener("error", (event) => void (this.#failure = event.message || "its writer thread failed"));
      this.#worker.unref();
    }
    this.#worker.postMessage(message);
  }
}
