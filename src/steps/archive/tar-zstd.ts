import { createReadStream, createWriteStream } from "node:fs";
import { join, normalize } from "node:path";
import type { Readable } from "node:stream";
import type { BuildFiles } from "../../executors/build-files.ts";
import { placeEntry } from "./place-entry.ts";
import { GarbageCadence } from "../../trace/garbage-cadence.ts";

/** zstd's first bytes: how a cache archive made with `CACHE_COMPRESSION_FORMAT=tarzstd` is told from a zip. */
export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * `CACHE_COMPRESSION_FORMAT=tarzstd` (GitLab Runner's other cache format): a tar of `entries`
 * (relative to `root` in `files`), zstd-compressed at `level`, to the local `file`, streaming.
 */
export async function writeTarZstd(files: BuildFiles, root: string, entries: readonly string[], file: string, level: number): Promise<void> {
  // Loaded when used: every built-in a module imports is loaded when the binary starts, and the
  // libraries a module imports when the module is.
  const [{ constants, createZstdCompress }, { pipeline }, { pack }] = await Promise.all([import("node:zlib"), import("node:stream/promises"), import("tar-stream")]);
  const tar = pack();
  const cadence = new GarbageCadence(8 * 1024 * 1024);
  const written = pipeline(tar as unknown as Readable, createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } }), createWriteStream(file, { mode: 0o600 }));
  for (const entry of entries) {
    const path = join(root, entry);
    const stat = await files.stat(path);
    if (!stat) continue;
    const header = { name: entry, mode: stat.mode, mtime: new Date(stat.mtimeMs) };
    if (stat.type === "directory") tar.entry({ ...header, type: "directory" });
    else if (stat.type === "symlink") tar.entry({ ...header, type: "symlink", linkname: await files.readlink(path) });
    else {
      await new Promise<void>((done, fail) => {
        const sink = tar.entry({ ...header, type: "file", size: stat.size }, (error) => (error ? fail(error) : done()));
        files.readInside(root, path).then((stream) => pipeline(stream, sink as never), fail).catch(fail);
      });
      cadence.passed(stat.size);
    }
  }
  tar.finalize();
  await written;
}

/** Extracts a tar.zst `file` into `dest` in `files`, with the zip extractor's refusals (place-entry.ts). */
export async function extractTarZstd(file: string, files: BuildFiles, dest: string): Promise<{ files: number }> {
  const root = normalize(dest);
  await files.mkdir(root);
  const realRoot = await files.realpath(root);
  const cadence = new GarbageCadence(8 * 1024 * 1024);
  const [{ createZstdDecompress }, { pipeline }, { Readable }, { extract }] = await Promise.all([
    import("node:zlib"), import("node:stream/promises"), import("node:stream"), import("tar-stream"),
  ]);
  const reader = extract();
  let count = 0;
  const fed = pipeline(createReadStream(file), createZstdDecompress(), reader as never);
  fed.catch(() => {}); // Awaited below; a refused entry ends the loop first.
  for await (const entry of reader as unknown as AsyncIterable<{ header: { name: string; type: string; mode?: number; mtime?: Date; linkname?: string; size?: number }; resume(): void } & NodeJS.ReadableStream>) {
    const { header } = entry;
    const type = header.type === "directory" ? 0o040000 : header.type === "symlink" ? 0o120000 : header.type === "file" ? 0o100000 : 0;
    if (type === 0) {
      entry.resume();
      continue;
    }
    const mode = type | ((header.mode ?? 0o644) & 0o7777);
    const open = async () => (header.type === "symlink" ? Readable.from([Buffer.from(header.linkname ?? "")]) : entry);
    if (await placeEntry(files, root, realRoot, { name: header.type === "directory" ? `${header.name.replace(/\/?$/, "/")}` : header.name, mode, mtimeMs: header.mtime?.getTime() ?? Date.now(), open })) count++;
    if (header.type !== "file") entry.resume();
    cadence.passed(header.size ?? 0);
  }
  await fed;
  return { files: count };
}
