import { createReadStream, createWriteStream } from "node:fs";
import { chmod, lstat, mkdir, readdir, readlink, realpath, rename, rm, symlink, utimes } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { BuildFiles, FileEntry } from "./build-files.ts";

/** The build directory on this machine. */
export const localFiles: BuildFiles = {
  async list(dir) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    const out: FileEntry[] = [];
    for (const entry of entries) {
      const full = join(entry.parentPath, entry.name);
      const stat = await lstat(full).catch(() => undefined);
      if (!stat) continue;
      out.push({ path: relative(dir, full).split(sep).join("/"), ...describe(stat) });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  },
  async stat(path) {
    const stat = await lstat(path).catch(() => undefined);
    return stat && describe(stat);
  },
  read: (path) => createReadStream(path),
  write: (path, mode) => createWriteStream(path, { mode }),
  mkdir: async (path) => void (await mkdir(path, { recursive: true })),
  readlink: (path) => readlink(path),
  symlink: (target, path) => symlink(target, path),
  remove: (path) => rm(path, { recursive: true, force: true }),
  rename: (from, to) => rename(from, to),
  async setModeAndTime(path, mode, mtimeMs) {
    await chmod(path, mode);
    await utimes(path, new Date(), new Date(mtimeMs));
  },
  realpath: (path) => realpath(path),
};

function describe(stat: Awaited<ReturnType<typeof lstat>>): Omit<FileEntry, "path"> {
  const type = stat.isDirectory() ? "directory" : stat.isSymbolicLink() ? "symlink" : "file";
  return { type, size: Number(stat.size), mtimeMs: Number(stat.mtimeMs), mode: Number(stat.mode) & 0o7777 };
}
