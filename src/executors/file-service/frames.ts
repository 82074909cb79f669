/**
 * The file service's wire: frames of `u32 length | u8 kind | u32 id | payload` over one byte
 * stream each way (a container's exec stdin and stdout, or its attach stream). `id` names a call,
 * and the stream of data that belongs to it. On a container's attach stream the same wire also
 * carries its stages (`STAGE_FRAME`), which is how `runner helper serve` serves both on one stream.
 */
export const FRAME = {
  /** client → server: `{ op, args }` */
  call: 1,
  /** server → client: the call's result, JSON */
  ok: 2,
  /** server → client: `{ name, message, code? }` */
  fail: 3,
  /** either way: bytes of the call's stream */
  data: 4,
  /** either way: the call's stream is over */
  end: 5,
  /** client → server: u32, more bytes of a read stream the client can take */
  credit: 6,
} as const;

/** The stages' frames, beside the file service's on one stream; `id` is the stage's turn (1, 2, …). */
export const STAGE_FRAME = {
  /** runner → container: run the stage whose script is `<stage dir>/<payload>.sh` */
  run: 16,
  /** container → runner: bytes the stage wrote to stdout / to stderr */
  stdout: 17,
  stderr: 18,
  /** container → runner: the stage's shell exited; payload: its exit code, u32 */
  end: 19,
  /** runner → container: the job is over, stop */
  exit: 20,
} as const;

export type FrameKind = (typeof FRAME)[keyof typeof FRAME] | (typeof STAGE_FRAME)[keyof typeof STAGE_FRAME];

/** Whether a frame is the file service's (else a stage's). */
export function isFileFrame(kind: FrameKind): boolean {
  return kind < STAGE_FRAME.run;
}

const HEADER = 9;
/** A data frame's largest payload: big enough to cost little per byte, small enough to interleave. */
export const MAX_DATA = 256 * 1024;

export function frame(kind: FrameKind, id: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const header = Buffer.allocUnsafe(HEADER);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt8(kind, 4);
  header.writeUInt32BE(id, 5);
  return payload.length === 0 ? header : Buffer.concat([header, payload]);
}

export function jsonFrame(kind: FrameKind, id: number, value: unknown): Buffer {
  return frame(kind, id, Buffer.from(JSON.stringify(value ?? null)));
}

export interface Frame {
  readonly kind: FrameKind;
  readonly id: number;
  readonly payload: Buffer;
}

/** Cuts a byte stream into frames, whatever the chunks' boundaries. */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffered < HEADER) break;
      const head = this.#peek(HEADER);
      const length = head.readUInt32BE(0);
      if (this.#buffered < HEADER + length) break;
      const whole = this.#take(HEADER + length);
      frames.push({ kind: whole.readUInt8(4) as FrameKind, id: whole.readUInt32BE(5), payload: whole.subarray(HEADER) });
    }
    return frames;
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length >= n) return this.#chunks[0]!;
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  #take(n: number): Buffer {
    const first = this.#peek(n);
    const taken = first.subarray(0, n);
    const rest = first.subarray(n);
    this.#chunks[0] = rest;
    if (rest.length === 0) this.#chunks.shift();
    this.#buffered -= n;
    return taken;
  }
}
