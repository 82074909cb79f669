/**
 * The thread of trace-file-writer.ts: writes the slots trace buffers hand it to their files, in the
 * order they came, then frees each slot (its state back to 0, a waiting buffer woken). A write that
 * fails flags the buffer with the error's text, which the buffer throws at its next write. A
 * buffer's shared memory comes once, when it opens (trace-file-slots.ts says why).
 */
import { writeSync } from "node:fs";
import { ERROR_FLAG, ERROR_TEXT_BYTES, SLOT_BYTES, SLOTS, type SlotMessage } from "./trace-file-slots.ts";

declare const self: Worker;

interface OpenBuffer {
  readonly fd: number;
  readonly slots: Uint8Array[];
  readonly state: Int32Array;
  readonly errorText: Uint8Array;
}

const buffers = new Map<number, OpenBuffer>();

self.onmessage = ({ data }: MessageEvent<SlotMessage>) => {
  if (data.kind === "open") {
    const slots = Array.from({ length: SLOTS }, (_, slot) => new Uint8Array(data.memory, slot * SLOT_BYTES, SLOT_BYTES));
    buffers.set(data.buffer, { fd: data.fd, slots, state: new Int32Array(data.state), errorText: new Uint8Array(data.errorText) });
    return;
  }
  if (data.kind === "close") return void buffers.delete(data.buffer);
  const open = buffers.get(data.buffer);
  if (!open) return;
  const bytes = open.slots[data.slot]!;
  try {
    let done = 0;
    while (done < data.length) done += writeSync(open.fd, bytes, done, data.length - done, data.position + done);
  } catch (error) {
    const text = new TextEncoder().encode(String(error)).subarray(0, ERROR_TEXT_BYTES);
    open.errorText.set(text);
    Atomics.store(open.state, ERROR_FLAG, Math.max(1, text.length));
  }
  Atomics.store(open.state, data.slot, 0);
  Atomics.notify(open.state, data.slot);
};
