import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceBuffer } from "../../src/trace/trace-buffer.ts";
import { SLOT_BYTES, SLOTS } from "../../src/trace/trace-file-slots.ts";
import { TraceFileWriter, traceFileWorkerUrl } from "../../src/trace/trace-file-writer.ts";

/** Deterministic bytes: a job's lines, numbered, so that a lost, doubled or misplaced piece shows. */
function output(total: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let n = 0; size < total; n++) {
    const line = `line ${n.toString().padStart(8, "0")} of a loud job\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, total);
}

/** Writes `bytes` in pieces of uneven sizes (a pipe's reads), reading back now and then as the reporter does. */
async function storeInPieces(buffer: TraceBuffer, bytes: Buffer): Promise<void> {
  const sizes = [1, 7, 4096, 12_345, 65_536, SLOT_BYTES - 3, SLOT_BYTES + 5, 3 * SLOT_BYTES, 999];
  let offset = 0;
  for (let k = 0; offset < bytes.length; k++) {
    const piece = bytes.subarray(offset, offset + sizes[k % sizes.length]!);
    buffer.write(Uint8Array.from(piece));
    offset += piece.length;
    if (k % 5 === 4) {
      // What was stored is in the file when it is read, whichever thread writes it.
      const from = Math.max(0, offset - 100_000);
      expect(Buffer.from(await buffer.slice(from, 100_000).arrayBuffer()).equals(bytes.subarray(from, offset))).toBe(true);
    }
  }
}

describe("the trace file's writes (helpers/trace/buffer.go keeps the job's whole trace in a file)", () => {
  for (const road of ["on the job's thread", "on the writer's thread"] as const) {
    test(`every byte reaches the file in order, past all ${SLOTS} slots, read back as it goes (${road})`, async () => {
      const writer = road === "on the writer's thread" ? new TraceFileWriter() : undefined;
      const dir = mkdtempSync(join(tmpdir(), "runner-trace-writes-"));
      const buffer = new TraceBuffer({ limit: 2 ** 30, dir, ...(writer ? { writer } : {}) });
      const bytes = output(SLOTS * SLOT_BYTES * 3 + 12_345);
      await storeInPieces(buffer, bytes);
      expect(buffer.size).toBe(bytes.length);
      expect(buffer.checksum).toBe(`crc32:${Bun.hash.crc32(bytes).toString(16).padStart(8, "0")}`);
      expect(Buffer.from(buffer.read(0, bytes.length)).equals(bytes)).toBe(true);
      expect(Buffer.from(await buffer.slice(bytes.length - 5000, 1 << 20).arrayBuffer()).equals(bytes.subarray(bytes.length - 5000))).toBe(true);
      buffer.close();
      // Closed only once its writes are done: the file is gone, none is left behind.
      expect(readdirSync(dir)).toEqual([]);
      writer?.close();
    });
  }

  test("jobs sharing the writer's thread each get their own bytes, their slots interleaved", async () => {
    const writer = new TraceFileWriter();
    const buffers = [0, 1, 2].map(() => new TraceBuffer({ limit: 2 ** 30, writer }));
    const outputs = [0, 1, 2].map((k) => Buffer.from(output(SLOTS * SLOT_BYTES * 2 + k * 7777).toString().replaceAll("loud job", `job ${k}   `)));
    const sizes = [4096, 65_536, SLOT_BYTES + 17];
    const offsets = [0, 0, 0];
    while (offsets.some((offset, k) => offset < outputs[k]!.length)) {
      for (const [k, buffer] of buffers.entries()) {
        const piece = outputs[k]!.subarray(offsets[k], offsets[k]! + sizes[k]!);
        if (piece.length > 0) buffer.write(Uint8Array.from(piece));
        offsets[k]! += piece.length;
      }
    }
    for (const [k, buffer] of buffers.entries()) {
      expect(Buffer.from(buffer.read(0, outputs[k]!.length + 1)).equals(outputs[k]!)).toBe(true);
      buffer.close();
    }
    writer.close();
  });

  test("a job whose trace never fills a slot never starts the thread; its first full slot does", async () => {
    const writer = new TraceFileWriter();
    const buffer = new TraceBuffer({ limit: 2 ** 30, writer });
    const bytes = output(SLOT_BYTES + 1000);
    buffer.write(Uint8Array.from(bytes.subarray(0, 1000)));
    // The reporter reads what is stored now and then; what it reads is in the file.
    expect(Buffer.from(await buffer.slice(0, 1 << 20).arrayBuffer()).equals(bytes.subarray(0, 1000))).toBe(true);
    buffer.write(Uint8Array.from(bytes.subarray(1000, SLOT_BYTES - 1)));
    expect(Buffer.from(buffer.read(0, 1 << 20)).equals(bytes.subarray(0, SLOT_BYTES - 1))).toBe(true);
    expect(writer.started).toBe(false);
    buffer.write(Uint8Array.from(bytes.subarray(SLOT_BYTES - 1)));
    expect(writer.started).toBe(true);
    expect(Buffer.from(buffer.read(0, 1 << 20)).equals(bytes)).toBe(true);
    buffer.close();
    writer.close();
  });

  test("a write the file refuses is an error of the buffer's next write, with the system's reason", async () => {
    const writer = new TraceFileWriter();
    const fd = openSync("/dev/full", "w");
    const writes = writer.writesFor(fd);
    writes.pending.fill(0x61, 0, 1000);
    writes.write(1000, 0);
    expect(() => writes.settle()).toThrow(/the trace file could not be written: .*ENOSPC/);
    closeSync(fd);
    writer.close();
  });

  test("the writer's thread is found in the source tree and in the executable", () => {
    expect(existsSync(new URL(traceFileWorkerUrl()).pathname)).toBe(true);
    // bun build --compile puts every module under /$bunfs/root and its entry points under their source paths.
    expect(traceFileWorkerUrl("file:///$bunfs/root/runner")).toBe("/$bunfs/root/src/trace/trace-file-worker.ts");
  });
});
