import { createWriteStream } from "node:fs";
import { join, normalize } from "node:path";
import type yauzl from "yauzl";
import type { BuildFiles } from "../../executors/build-files.ts";
import { placeEntry } from "./place-entry.ts";

import { UnsafeArchiveError } from "./unsafe-archive-error.ts";
import { GarbageCadence } from "../../trace/garbage-cadence.ts";

export { UnsafeArchiveError } from "./unsafe-archive-error.ts";

/**
 * Writes a zip of `entries` (relative to `root` in `files`) to the local `file`, streaming: memory
 * does not grow with the size of the files, and each file is opened only when its turn comes.
 * Large archives get ZIP64 records. Symbolic links are stored as links.
 */
export async function writeZip(files: BuildFiles, root: string, entries: readonly string[], file: string, options: { compress?: boolean } = {}): Promise<void> {
  const [{ default: yazl }, { pipeline }] = await Promise.all([import("yazl"), import("node:stream/promises")]);
  const zip = new yazl.ZipFile();
  const cadence = new GarbageCadence(COLLECT_EVERY);
  const written = pipeline(zip.outputStream, createWriteStream(file, { mode: 0o600 }));
  for (const entry of entries) {
    const path = join(root, entry);
    const stat = await files.stat(path);
    if (!stat) continue;
    const entryOptions = { mtime: new Date(stat.mtimeMs), mode: stat.mode | typeBits(stat.type), ...(options.compress === false ? { compress: false } : {}) };
    if (stat.type === "directory") zip.addEmptyDirectory(entry, entryOptions);
    else if (stat.type === "symlink") zip.addBuffer(Buffer.from(await files.readlink(path)), entry, { ...entryOptions, compress: false });
    else zip.addReadStreamLazy(entry, { ...entryOptions, size: stat.size }, (done) => {
      files.readInside(root, path).then((stream) => {
        stream.once("end", () => cadence.passed(stat.size));
        done(null, stream);
      }, (error: Error) => done(error, undefined as never));
    });
  }
  zip.end();
  await written;
}

function typeBits(type: "file" | "directory" | "symlink"): number {
  return type === "directory" ? 0o040000 : type === "symlink" ? 0o120000 : 0o100000;
}

/**
 * Every this many bytes archived or extracted, their buffers (garbage by then) are collected at
 * once rather than left to grow the process by the archive's size: the runner's peak RSS over a
 * 200 MB shared-cache round trip (bench/cache.ts) went from 150-167 MB to 104-110 MB, at no
 * measurable cost in time (every 32 MB was not enough: 130-167 MB).
 */
const COLLECT_EVERY = 8 * 1024 * 1024;

/**
 * Extracts the local zip `file` into `dest` in `files`, streaming. An entry whose path would leave
 * `dest` (`..`, an absolute path, or through a symbolic link) is refused before anything of it is written.
 */
export async function extractZip(file: string, files: BuildFiles, dest: string): Promise<{ files: number }> {
  const root = normalize(dest);
  await files.mkdir(root);
  const realRoot = await files.realpath(root);
  const { default: unzip } = await import("yauzl");
  const zip = await new Promise<yauzl.ZipFile>((ok, fail) =>
    unzip.open(file, { lazyEntries: true, autoClose: true }, (e, z) => (e ? fail(unsafeNameError(e)) : ok(z!))),
  );
  let count = 0;
  const cadence = new GarbageCadence(COLLECT_EVERY);
  await new Promise<void>((done, fail) => {
    zip.on("error", (error: Error) => fail(unsafeNameError(error)));
    zip.on("end", done);
    zip.on("entry", (entry: yauzl.Entry) => {
      extractEntry(zip, entry, files, root, realRoot)
        .then((isFile) => {
          if (isFile) count++;
          cadence.passed(entry.uncompressedSize);
          zip.readEntry();
        })
        .catch((error) => {
          zip.close();
          fail(error);
        });
    });
    zip.readEntry();
  });
  return { files: count };
}

/** yauzl refuses `..` and absolute names itself; such an archive is refused like any unsafe one. */
function unsafeNameError(error: Error): Error {
  return /invalid relative path|absolute path/.test(error.message)
    ? new UnsafeArchiveError(`${error.message.replace(/^.*?: /, "")}: the path leaves the extraction directory; the archive is refused`)
    : error;
}

async function extractEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, files: BuildFiles, root: string, realRoot: string): Promise<boolean> {
  const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
  return placeEntry(files, root, realRoot, {
    name: entry.fileName, mode, mtimeMs: entry.getLastModDate().getTime(),
    open: () => new Promise<NodeJS.ReadableStream>((ok, fail) => zip.openReadStream(entry, (e, s) => (e ? fail(e) : ok(s!)))),
  });
}
