import { createWriteStream } from "node:fs";
import { chmod, lstat, mkdir, readlink, realpath, symlink, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import yazl from "yazl";

/** An archive entry would land outside the directory it is extracted into. */
export class UnsafeArchiveError extends Error {
  override readonly name = "UnsafeArchiveError";
}

/**
 * Writes a zip of `entries` (relative to `root`) to `file`, streaming: memory does not grow with the
 * size of the files. Large archives get ZIP64 records. Symbolic links are stored as links.
 */
export async function writeZip(root: string, entries: readonly string[], file: string): Promise<void> {
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, createWriteStream(file, { mode: 0o600 }));
  for (const entry of entries) {
    const path = join(root, entry);
    const stat = await lstat(path);
    const options = { mtime: stat.mtime, mode: stat.mode };
    if (stat.isDirectory()) zip.addEmptyDirectory(entry, options);
    else if (stat.isSymbolicLink()) zip.addBuffer(Buffer.from(await readlink(path)), entry, { ...options, compress: false });
    else zip.addFile(path, entry, options);
  }
  zip.end();
  await written;
}

/**
 * Extracts the zip `file` into `dest`, streaming. An entry whose path would leave `dest` (`..`, an
 * absolute path, or through a symbolic link) is refused before anything of it is written.
 */
export async function extractZip(file: string, dest: string): Promise<{ files: number }> {
  const root = resolve(dest);
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const zip = await new Promise<yauzl.ZipFile>((ok, fail) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: false }, (e, z) => (e ? fail(e) : ok(z!))),
  );
  let files = 0;
  await new Promise<void>((done, fail) => {
    zip.on("error", (error: Error) => fail(unsafeNameError(error)));
    zip.on("end", done);
    zip.on("entry", (entry: yauzl.Entry) => {
      extractEntry(zip, entry, root, realRoot)
        .then((isFile) => {
          if (isFile) files++;
          zip.readEntry();
        })
        .catch((error) => {
          zip.close();
          fail(error);
        });
    });
    zip.readEntry();
  });
  return { files };
}

/** yauzl refuses `..` and absolute names itself; such an archive is refused like any unsafe one. */
function unsafeNameError(error: Error): Error {
  return /invalid relative path|absolute path/.test(error.message)
    ? new UnsafeArchiveError(`${error.message.replace(/^.*?: /, "")}: the path leaves the extraction directory; the archive is refused`)
    : error;
}

async function extractEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, root: string, realRoot: string): Promise<boolean> {
  const name = entry.fileName;
  const target = normalize(join(root, name));
  if (isAbsolute(name) || (target !== root && !target.startsWith(root + sep))) {
    throw new UnsafeArchiveError(`${name}: the path leaves the extraction directory; the archive is refused`);
  }
  // A parent that is a symbolic link pointing elsewhere must not carry the entry out either.
  await mkdir(dirname(target), { recursive: true });
  const parent = await realpath(dirname(target));
  if (parent !== realRoot && !parent.startsWith(realRoot + sep)) {
    throw new UnsafeArchiveError(`${name}: a symbolic link in its path leaves the extraction directory; the archive is refused`);
  }
  const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
  const isDirectory = name.endsWith("/") || (mode & 0o170000) === 0o040000;
  if (isDirectory) {
    await mkdir(target, { recursive: true });
    return false;
  }
  const stream = await new Promise<NodeJS.ReadableStream>((ok, fail) => zip.openReadStream(entry, (e, s) => (e ? fail(e) : ok(s!))));
  await rm(target, { force: true, recursive: true });
  if ((mode & 0o170000) === 0o120000) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    await symlink(Buffer.concat(chunks).toString("utf8"), target);
    return true;
  }
  await pipeline(stream, createWriteStream(target, { mode: 0o644 }));
  if (mode & 0o777) await chmod(target, mode & 0o777);
  return true;
}
