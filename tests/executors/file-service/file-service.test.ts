import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OutsidePathError } from "../../../src/executors/build-files.ts";
import { remoteFiles } from "../../../src/executors/file-service/file-client.ts";
import { serveFiles } from "../../../src/executors/file-service/file-server.ts";
import { FrameReader, frame, FRAME } from "../../../src/executors/file-service/frames.ts";
import { localFiles } from "../../../src/executors/local-files.ts";

/**
 * The file service moves a build volume's files through a container's exec stream (no engine data
 * directory): the same BuildFiles answers as on this machine, the same error classes, contents
 * streamed both ways and never held whole.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function served() {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const done = serveFiles(localFiles, toServer, toClient);
  const files = remoteFiles(toClient, toServer);
  return { files, done };
}

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "runner-files-"));
  dirs.push(root);
  mkdirSync(join(root, "src/deep"), { recursive: true });
  writeFileSync(join(root, "src/a.txt"), "alpha\n");
  writeFileSync(join(root, "src/deep/b.bin"), Buffer.from([0, 1, 2, 255]));
  symlinkSync("..", join(root, "src/up"));
  symlinkSync("/etc/passwd", join(root, "src/passwd"));
  return root;
}

describe("the file service", () => {
  test("frames survive any chunking, one byte at a time included", () => {
    const bytes = Buffer.concat([frame(FRAME.call, 7, Buffer.from("hello")), frame(FRAME.end, 8), frame(FRAME.data, 9, Buffer.alloc(70_000, 3))]);
    const reader = new FrameReader();
    const got = [];
    for (let i = 0; i < bytes.length; i++) got.push(...reader.push(bytes.subarray(i, i + 1)));
    expect(got.map((f) => [f.kind, f.id, f.payload.length])).toEqual([[FRAME.call, 7, 5], [FRAME.end, 8, 0], [FRAME.data, 9, 70_000]]);
  });

  test("answers every call as the local files do", async () => {
    const root = tree();
    const { files } = served();
    expect(await files.list(root)).toEqual(await localFiles.list(root));
    expect(await files.stat(join(root, "src/up"))).toEqual(await localFiles.stat(join(root, "src/up")));
    expect(await files.stat(join(root, "missing"))).toBeUndefined();
    expect(await files.readlink(join(root, "src/up"))).toBe("..");
    expect(await files.realpath(join(root, "src/up"))).toBe(root);
    await files.mkdir(join(root, "new/dir"));
    await files.symlink("a.txt", join(root, "src/link"));
    await files.rename(join(root, "src/link"), join(root, "new/link"));
    await files.setModeAndTime(join(root, "src/a.txt"), 0o640, 1_700_000_000_000);
    const stat = await files.stat(join(root, "src/a.txt"));
    expect([stat?.mode, stat?.mtimeMs]).toEqual([0o640, 1_700_000_000_000]);
    await files.remove(join(root, "src"));
    expect((await files.list(root)).map((e) => e.path)).toEqual(["new", "new/dir", "new/link"]);
    files.close();
  });

  test("refuses what the local files refuse, with the same error class and errno code", async () => {
    const root = tree();
    const { files } = served();
    const refused = await files.readInside(root, join(root, "src/passwd")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OutsidePathError);
    const missing = (await files.readlink(join(root, "nothing")).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(missing.code).toBe("ENOENT");
    const unknown = await files.write(join(root, "no/such/dir/file"), 0o644);
    const failed = await pipeline(Readable.from([Buffer.from("x")]), unknown).catch((e: unknown) => e as NodeJS.ErrnoException);
    expect((failed as NodeJS.ErrnoException).code).toBe("ENOENT");
    files.close();
  });

  test("streams 24 MB each way through a slow reader without holding it whole", async () => {
    const root = tree();
    const { files } = served();
    const big = Buffer.alloc(24 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    await pipeline(Readable.from((function* () {
      for (let at = 0; at < big.length; at += 100_000) yield big.subarray(at, at + 100_000);
    })()), files.write(join(root, "big"), 0o600));
    expect(createHash("sha256").update(readFileSync(join(root, "big"))).digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
    const stream = await files.readInside(root, join(root, "big"));
    const hash = createHash("sha256");
    let peak = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      peak = Math.max(peak, stream.readableLength);
      await Bun.sleep(0);
    }
    expect(hash.digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
    // The server sends ahead at most its window (4 MiB) of what the reader has not taken yet.
    expect(peak).toBeLessThanOrEqual(4 * 1024 * 1024);
    files.close();
  });

  test("calls in flight fail, not hang, when the service goes away", async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const files = remoteFiles(toClient, toServer, "the helper's file service");
    const waiting = files.list("/");
    toClient.end();
    expect(await waiting.catch((e: Error) => e.message)).toBe("the helper's file service ended");
  });
});
