import type { Readable, Writable } from "node:stream";
import { nodeStream } from "../../node-stream.ts";
import { ListingError, OutsidePathError, type BuildFiles, type FileEntry } from "../build-files.ts";
import { FRAME, FrameReader, MAX_DATA, frame, jsonFrame, type Frame } from "./frames.ts";

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** A read stream's data goes here once the call is answered. */
  stream?: Readable;
  /** The read stream is in the caller's hands: its failures go to it. */
  handedOut?: boolean;
}

/** A build directory served by file-server.ts at the other end of a byte stream pair. */
export interface RemoteFiles extends BuildFiles {
  /** Ends the service (its input); calls still waiting fail. */
  close(): void;
}

/**
 * The client of the file service: {@link BuildFiles} whose every call is a frame to the server and
 * whose file contents stream both ways in data frames, never whole in memory (reads take what the
 * consumer has room for, by credit; writes wait for the wire to drain). `hold` is told when calls
 * start and stop waiting, so that an idle connection need not keep the process alive.
 */
export function remoteFiles(
  input: Readable, output: Writable, describe = "the file service", hold: (busy: boolean) => void = () => {},
): RemoteFiles {
  const client = new FileClient(output, describe, hold);
  input.on("data", (chunk: Buffer) => client.receive(chunk));
  input.on("end", () => client.shutDown(new Error(`${describe} ended`)));
  input.on("close", () => client.shutDown(new Error(`${describe} ended`)));
  input.on("error", (error) => client.shutDown(new Error(`${describe} failed: ${error.message}`)));
  const call = <T>(op: string, ...args: unknown[]) => client.start(op, args) as Promise<T>;
  return {
    list: (dir, options) => call<FileEntry[]>("list", dir, ...(options?.unwanted ? [{ unwanted: options.unwanted }] : [])),
    stat: async (path) => (await call<Omit<FileEntry, "path"> | null>("stat", path)) ?? undefined,
    readInside: (root, path) => client.readInside(root, path),
    write: (path, mode) => client.write(path, mode),
    mkdir: (path) => call<void>("mkdir", path),
    readlink: (path) => call<string>("readlink", path),
    symlink: (target, path) => call<void>("symlink", target, path),
    remove: (path) => call<void>("remove", path),
    rename: (from, to) => call<void>("rename", from, to),
    setModeAndTime: (path, mode, mtimeMs) => call<void>("setModeAndTime", path, mode, mtimeMs),
    setOwner: (path, uid, gid) => call<void>("setOwner", path, uid, gid),
    realpath: (path) => call<string>("realpath", path),
    close: () => {
      client.shutDown(new Error(`${describe} was closed`));
      output.end();
    },
  };
}

class FileClient {
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #ended: Error | undefined;

  constructor(readonly output: Writable, readonly describe: string, readonly hold: (busy: boolean) => void) {}

  start(op: string, args: unknown[], stream?: Readable): Promise<unknown> {
    if (this.#ended) return Promise.reject(this.#ended);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.hold(true);
      this.#pending.set(id, { resolve, reject, ...(stream ? { stream } : {}) });
      this.output.write(jsonFrame(FRAME.call, id, { op, args }));
    });
  }

  receive(chunk: Buffer): void {
    for (const f of this.#reader.push(chunk)) this.#onFrame(f);
  }

  shutDown(why: Error): void {
    this.#ended ??= why;
    for (const p of this.#pending.values()) {
      if (p.handedOut) p.stream?.destroy(this.#ended);
      else p.reject(this.#ended);
    }
    if (this.#pending.size > 0) this.hold(false);
    this.#pending.clear();
  }

  #done(id: number): void {
    if (this.#pending.delete(id) && this.#pending.size === 0) this.hold(false);
  }

  #onFrame(f: Frame): void {
    const p = this.#pending.get(f.id);
    if (!p) return;
    if (f.kind === FRAME.ok) {
      if (p.stream) p.handedOut = true;
      else this.#done(f.id);
      p.resolve(f.payload.length ? JSON.parse(f.payload.toString()) : null);
    } else if (f.kind === FRAME.fail) {
      this.#done(f.id);
      const error = revive(JSON.parse(f.payload.toString()));
      if (p.handedOut) p.stream?.destroy(error);
      else p.reject(error);
    } else if (f.kind === FRAME.data) {
      p.stream?.push(f.payload);
    } else if (f.kind === FRAME.end) {
      this.#done(f.id);
      p.stream?.push(null);
    }
  }

  async readInside(root: string, path: string): Promise<Readable> {
    const id = this.#next;
    const output = this.output;
    // What the consumer took out is what the server may send again: at most its window is ever
    // buffered here or on the way.
    let pushed = 0;
    let credited = 0;
    const stream = new (nodeStream().Readable)({
      highWaterMark: MAX_DATA * 4,
      read() {
        const consumed = pushed - stream.readableLength;
        if (consumed <= credited) return;
        output.write(frame(FRAME.credit, id, u32(consumed - credited)));
        credited = consumed;
      },
    });
    const push = stream.push.bind(stream);
    stream.push = (chunk: Buffer | null) => {
      if (chunk) pushed += chunk.length;
      return push(chunk);
    };
    await this.start("readInside", [root, path], stream);
    return stream;
  }

  write(path: string, mode: number): Writable {
    const id = this.#next;
    const output = this.output;
    let failure: Error | undefined;
    const finished = this.start("write", [path, mode]);
    // Before the end, the writer learns of a failure at its next write.
    finished.catch((error: Error) => void (failure = error));
    return new (nodeStream().Writable)({
      write(chunk: Buffer, _encoding, done) {
        if (failure) return done(failure);
        let ok = true;
        for (let at = 0; at < chunk.length; at += MAX_DATA) ok = output.write(frame(FRAME.data, id, chunk.subarray(at, at + MAX_DATA)));
        if (ok) done();
        else output.once("drain", () => done(failure));
      },
      final(done) {
        if (failure) return done(failure);
        output.write(frame(FRAME.end, id));
        finished.then(() => done(), (error: Error) => done(error));
      },
    });
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(Math.min(n, 0xffffffff), 0);
  return b;
}

/** The server's error as the same class and errno code a local call would have thrown. */
function revive(e: { name: string; message: string; code?: string }): Error {
  const error = e.name === "OutsidePathError" ? new OutsidePathError(e.message) : e.name === "ListingError" ? new ListingError(e.message) : new Error(e.message);
  if (e.code) (error as NodeJS.ErrnoException).code = e.code;
  return error;
}
