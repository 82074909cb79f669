import type { Readable, Writable } from "node:stream";
import type { BuildFiles } from "../build-files.ts";
import { FRAME, FrameReader, MAX_DATA, frame, jsonFrame, type Frame } from "./frames.ts";

/** Bytes of a read stream sent ahead of the client's credit. */
export const READ_WINDOW = 4 * 1024 * 1024;

type Call = { readonly op: string; readonly args: readonly unknown[] };
const CALLS = new Set(["list", "stat", "mkdir", "readlink", "symlink", "remove", "rename", "setModeAndTime", "setOwner", "realpath"]);

/**
 * Serves `files` (this machine's) to one client over `input` and `output`: the other end of
 * file-client.ts. Run inside a job's container (`runner helper files`), it is how the runner moves
 * sources, artifacts and caches in and out of a build volume whose data directory it cannot reach.
 * Resolves when the input ends.
 */
export function serveFiles(files: BuildFiles, input: Readable, output: Writable): Promise<void> {
  const server = new FileServer(files, input, output);
  return new Promise((resolve) => {
    input.on("data", (chunk: Buffer) => server.receive(chunk));
    input.on("end", () => resolve());
    input.on("close", () => resolve());
  });
}

interface Upload {
  readonly stream: Writable;
  failed: boolean;
}

interface Window {
  credit: number;
  wake?: () => void;
}

class FileServer {
  readonly #reader = new FrameReader();
  readonly #uploads = new Map<number, Upload>();
  readonly #downloads = new Map<number, Window>();

  constructor(readonly files: BuildFiles, readonly input: Readable, readonly output: Writable) {}

  receive(chunk: Buffer): void {
    for (const f of this.#reader.push(chunk)) this.#onFrame(f);
  }

  #send(buffer: Buffer): boolean {
    return this.output.write(buffer);
  }

  #fail(id: number, error: unknown): void {
    const e = error as NodeJS.ErrnoException;
    this.#send(jsonFrame(FRAME.fail, id, { name: e?.name ?? "Error", message: e?.message ?? String(error), ...(e?.code ? { code: e.code } : {}) }));
  }

  #onFrame(f: Frame): void {
    if (f.kind === FRAME.call) return void this.#call(f.id, JSON.parse(f.payload.toString()) as Call);
    if (f.kind === FRAME.credit) return this.#credit(f.id, f.payload.readUInt32BE(0));
    const upload = this.#uploads.get(f.id);
    if (!upload) return;
    if (f.kind === FRAME.data && !upload.failed) this.#write(upload, f.payload);
    else if (f.kind === FRAME.end) this.#finish(f.id, upload);
  }

  async #call(id: number, { op, args }: Call): Promise<void> {
    try {
      if (op === "readInside") return await this.#download(id, args[0] as string, args[1] as string);
      if (op === "write") return this.#upload(id, args[0] as string, args[1] as number);
      const method = (this.files as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op];
      if (!CALLS.has(op) || !method) throw new Error(`the file service has no call "${op}"`);
      this.#send(jsonFrame(FRAME.ok, id, (await method.apply(this.files, [...args])) ?? null));
    } catch (error) {
      this.#fail(id, error);
    }
  }

  /** A file's contents, in data frames, no further ahead of the client than its credit. */
  async #download(id: number, root: string, path: string): Promise<void> {
    const stream = await this.files.readInside(root, path);
    const window: Window = { credit: READ_WINDOW };
    this.#downloads.set(id, window);
    this.#send(jsonFrame(FRAME.ok, id, null));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length; at += MAX_DATA) {
          const piece = chunk.subarray(at, at + MAX_DATA);
          while (window.credit <= 0) await new Promise<void>((wake) => (window.wake = wake));
          window.credit -= piece.length;
          if (!this.#send(frame(FRAME.data, id, piece))) await new Promise((drained) => this.output.once("drain", drained));
        }
      }
      this.#send(frame(FRAME.end, id));
    } finally {
      this.#downloads.delete(id);
    }
  }

  #credit(id: number, bytes: number): void {
    const window = this.#downloads.get(id);
    if (!window) return;
    window.credit += bytes;
    window.wake?.();
  }

  #upload(id: number, path: string, mode: number): void {
    const upload: Upload = { stream: this.files.write(path, mode), failed: false };
    this.#uploads.set(id, upload);
    upload.stream.on("error", (error) => {
      if (upload.failed) return;
      upload.failed = true;
      this.#fail(id, error);
    });
  }

  #write(upload: Upload, bytes: Buffer): void {
    // The file is slower than the wire: the wire waits.
    if (upload.stream.write(bytes)) return;
    this.input.pause();
    upload.stream.once("drain", () => this.input.resume());
  }

  #finish(id: number, upload: Upload): void {
    this.#uploads.delete(id);
    if (upload.failed) return;
    upload.stream.end((error?: Error | null) => {
      if (!error && !upload.failed) this.#send(jsonFrame(FRAME.ok, id, null));
    });
  }
}
