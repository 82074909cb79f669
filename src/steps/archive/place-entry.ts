import { basename, dirname, isAbsolute, join, normalize, relative, sep } from "node:path";
import type { BuildFiles } from "../../executors/build-files.ts";
import { isInside } from "../../executors/inside.ts";
import { UnsafeArchiveError } from "./unsafe-archive-error.ts";

/** One entry of an archive, whatever its format: its name, mode bits (with the type), time and contents. */
export interface ArchiveEntry {
  readonly name: string;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly open: () => Promise<NodeJS.ReadableStream>;
}

/**
 * Writes one archive entry below `root` in `files`, refusing a name that leaves it (`..`, absolute)
 * and a symbolic link on the way out of it; a link is made as a link, never followed. Says whether
 * it was a file or link (not a directory).
 */
export async function placeEntry(files: BuildFiles, root: string, realRoot: string, entry: ArchiveEntry): Promise<boolean> {
  const name = entry.name;
  const target = normalize(join(root, name));
  if (isAbsolute(name) || (target !== root && !target.startsWith(root + sep))) {
    throw new UnsafeArchiveError(`${name}: the path leaves the extraction directory; the archive is refused`);
  }
  const mode = entry.mode;
  const isDirectory = name.endsWith("/") || (mode & 0o170000) === 0o040000;
  // Each directory on the way is checked before the next one is made below it: a link in the
  // archive or in the directory must never have a directory created outside.
  const parent = await directoryInside(files, root, realRoot, relative(root, isDirectory ? target : dirname(target)), name);
  if (isDirectory) return false;
  const path = join(parent, basename(target));
  const stream = await entry.open();
  await files.remove(path);
  if ((mode & 0o170000) === 0o120000) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    await files.symlink(Buffer.concat(chunks).toString("utf8"), path);
    return true;
  }
  const { pipeline } = await import("node:stream/promises");
  await pipeline(stream, files.write(path, 0o644));
  await files.setModeAndTime(path, mode & 0o777 || 0o644, entry.mtimeMs);
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
