/**
 * The thread of trace-file-writer.ts: writes the slots trace buffers hand it to their files, in the
 * order they came, then frees each slot (its state back to 0, a waiting buffer woken). A write that
 * fails flags the buffer with the error's text, which the buffer throws at its next write.
 */
import { writeSync } from "node:fs";
import { ERROR_FLAG, ERROR_TEXT_BYTES, SLOT_BYTES, type SlotWrite } from "./trace-file-slots.ts";

declare const self: Worker;

self.onmessage = ({ data }: MessageEvent<SlotWrite>) => {
  const bytes = new Uint8Array(data.memory, data.slot * SLOT_BYTES, data.length);
  const state = new Int32Array(data.state);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(data.fd, bytes, done, bytes.length - done, data.position + done);
  } catch (error) {
    const text = new TextEncoder().encode(String(error)).subarray(0, ERROR_TEXT_BYTES);
    new Uint8Array(data.errorText).set(text);
    Atomics.store(state, ERROR_FLAG, Math.max(1, text.length));
  }
  Atomics.store(state, data.slot, 0);
  Atomics.notify(state, data.slot);
};
