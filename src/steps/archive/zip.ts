import { createWriteStream } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import yazl from "yazl";
import type { BuildFiles } from "../../executors/build-files.ts";
import { isInside } from "../../executors/inside.ts";

import { UnsafeArchiveError } from "./unsafe-archive-error.ts";

export { UnsafeArchiveError } from "./unsafe-archive-error.ts";

/**
 * Writes a zip of `entries` (relative to `root` in `files`) to the local `file`, streaming: memory
 * does not grow with the size of the files, and each file is opened only when its turn comes.
 * Large archives get ZIP64 records. Symbolic links are stored as links.
 */
export async function writeZip(files: BuildFiles, root: string, entries: readonly string[], file: string): Promise<void> {
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, createWriteStream(file, { mode: 0o600 }));
  for (const entry of entries) {
    const path = join(root, entry);
    const stat = await files.stat(path);
    if (!stat) continue;
    const options = { mtime: new Date(stat.mtimeMs), mode: stat.mode | typeBits(stat.type) };
    if (stat.type === "directory") zip.addEmptyDirectory(entry, options);
    else if (stat.type === "symlink") zip.addBuffer(Buffer.from(await files.readlink(path)), entry, { ...options, compress: false });
    else zip.addReadStreamLazy(entry, { ...options, size: stat.size }, (done) => {
      files.readInside(root, path).then((stream) => done(null, stream), (error: Error) => done(error, undefined as never));
    });
  }
  zip.end();
  await written;
}

function typeBits(type: "file" | "directory" | "symlink"): number {
  return type === "directory" ? 0o040000 : type === "symlink" ? 0o120000 : 0o100000;
}

/**
 * Extracts the local zip `file` into `dest` in `files`, streaming. An entry whose path would leave
 * `dest` (`..`, an absolute path, or through a symbolic link) is refused before anything of it is written.
 */
export async function extractZip(file: string, files: BuildFiles, dest: string): Promise<{ files: number }> {
  const root = normalize(dest);
  await files.mkdir(root);
  const realRoot = await files.realpath(root);
  const zip = await new Promise<yauzl.ZipFile>((ok, fail) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (e, z) => (e ? fail(unsafeNameError(e)) : ok(z!))),
  );
  let count = 0;
  await new Promise<void>((done, fail) => {
    zip.on("error", (error: Error) => fail(unsafeNameError(error)));
    zip.on("end", done);
    zip.on("entry", (entry: yauzl.Entry) => {
      extractEntry(zip, entry, files, root, realRoot)
        .then((isFile) => {
          if (isFile) count++;
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
  const name = entry.fileName;
  const target = normalize(join(root, name));
  if (isAbsolute(name) || (target !== root && !target.startsWith(root + sep))) {
    throw new UnsafeArchiveError(`${name}: the path leaves the extraction directory; the archive is refused`);
  }
  const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
  const isDirectory = name.endsWith("/") || (mode & 0o170000) === 0o040000;
  // Each directory on the way is checked before the next one is made below it: a link in the
  // archive or in the directory must never have a directory created outside.
  const parent = await directoryInside(files, root, realRoot, relative(root, isDirectory ? target : dirname(target)), name);
  if (isDirectory) return false;
  const path = join(parent, basename(target));
  const stream = await new Promise<NodeJS.ReadableStream>((ok, fail) => zip.openReadStream(entry, (e, s) => (e ? fail(e) : ok(s!))));
  await files.remove(path);
  if ((mode & 0o170000) === 0o120000) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    await files.symlink(Buffer.concat(chunks).toString("utf8"), path);
    return true;
  }
  await pipeline(stream, files.write(path, 0o644));
  const modified = entry.getLastModDate().getTime();
  await files.setModeAndTime(path, mode & 0o777 || 0o644, modified);
  return true;
}

/**
 * Makes (when missing) each directory of `relativeDir` below `root`, one level at a time, and
 * returns the real path of the last one. A component that is a symbolic link is followed only when
 * its real path stays inside `realRoot`; otherwise the archive is refused before anything is made.
 */
async function directoryInside(files: BuildFiles, root: string, realRoot: string, relativeDir: string, name: string): Promise<string> {
  let current = realRoot;
  for (const part of relativeDir.split(sep).filter((p) => p !== "" && p !== ".")) {
    const next = join(current, part);
    let stat = await files.stat(next);
    if (!stat) {
      await files.mkdir(next);
      stat = await files.stat(next);
    }
    if (stat?.type === "symlink") {
      const real = await files.realpath(next).catch(() => undefined);
      if (real === undefined || !isInside(real, realRoot)) {
        throw new UnsafeArchiveError(`${name}: a symbolic link in its path leaves the extraction directory; the archive is refused`);
      }
      if ((await files.stat(real))?.type !== "directory") throw new UnsafeArchiveError(`${name}: ${relative(root, next)} is not a directory`);
      current = real;
    } else if (stat?.type === "directory") {
      current = next;
    } else {
      throw new UnsafeArchiveError(`${name}: ${relative(root, next)} is not a directory`);
    }
  }
  return current;
}
