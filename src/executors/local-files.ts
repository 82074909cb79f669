import { constants, createWriteStream, mkdirSync, readdirSync, type Dirent, type Stats } from "node:fs";
import { chmod, chown, lstat, open, readdir, readlink, realpath, rename, rm, symlink, utimes } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { ListingError, OutsidePathError, type BuildFiles, type FileEntry } from "./build-files.ts";
import { isInside } from "./inside.ts";
import { lstatOrUndefined } from "../file-probes.ts";

/** The build directory on this machine. */
export const localFiles: BuildFiles = {
  list: (dir, options) => listTree(dir, options?.unwanted),
  // One system call, synchronous (as mkdir): each stage's end asks for the command file, and
  // asynchronously the answer waited for an event loop busy with the other job of the stage.
  async stat(path) {
    const stat = lstatOrUndefined(path);
    return stat && describe(stat);
  },
  readInside: (root, path) => openInside(root, path),
  write: (path, mode) => createWriteStream(path, { mode }),
  // One system call, synchronous: asynchronously it waited for an event loop busy with the job's set-up.
  mkdir: async (path) => void mkdirSync(path, { recursive: true }),
  readlink: (path) => readlink(path),
  symlink: (target, path) => symlink(target, path),
  remove: (path) => rm(path, { recursive: true, force: true }),
  rename: (from, to) => rename(from, to),
  async setModeAndTime(path, mode, mtimeMs) {
    await chmod(path, mode);
    await utimes(path, new Date(), new Date(mtimeMs));
  },
  realpath: (path) => realpath(path),
  setOwner: (path, uid, gid) => chown(path, uid, gid),
};

/**
 * How many entries a listing looks at with synchronous calls before it goes on asynchronously.
 * A project's copy is listed while the event loop is busy setting its job up, and each
 * asynchronous call waits for it: 21 files took 5-11 ms so (a trivial job's timeline), 0.15-0.3 ms
 * synchronously; past this many the walk no longer holds the loop (~1-2 ms at most).
 */
const SYNC_ENTRIES = 256;

/**
 * Walks `root` directory by directory, the first {@link SYNC_ENTRIES} entries synchronously.
 * (`readdir` with `recursive: true` follows symbolic links under Bun: `ln -s .. up` sends it round
 * in circles until ELOOP.)
 */
export async function listTree(root: string, unwanted?: string, syncEntries = SYNC_ENTRIES): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  let budget = syncEntries;
  const lstatOf = (path: string): Promise<Stats | undefined> | Stats | undefined => {
    if (budget-- <= 0) return lstat(path).catch(() => undefined);
    return lstatOrUndefined(path);
  };
  const walk = async (relative: string): Promise<void> => {
    const dir = relative === "" ? root : join(root, relative);
    let entries: Dirent[];
    try {
      entries = budget > 0 ? readdirSync(dir, { withFileTypes: true }) : await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The root missing is an empty listing; a directory that went away while we looked, too.
      if (code === "ENOENT" || (relative === "" && code === "ENOTDIR")) return;
      throw new ListingError(`cannot list ${dir}: ${code ?? String(error)}`);
    }
    // A directory's entries are looked at together, and its subdirectories walked together: one
    // after the other, a copied repository's .git alone (36 entries) kept a trivial job ~1.5 ms.
    await Promise.all(entries.map(async (entry) => {
      if (relative === "" && entry.name === unwanted) return;
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const stat = await lstatOf(join(root, path));
      if (!stat) return;
      const described = describe(stat);
      out.push({ path, ...described });
      if (described.type === "directory") await walk(path);
    }));
  };
  await walk("");
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

async function openInside(root: string, path: string): Promise<Readable> {
  const [realRoot, parent] = await Promise.all([realpath(root), realpath(dirname(path))]);
  if (!isInside(parent, realRoot)) throw new OutsidePathError(`${path}: a symbolic link on its way leaves ${root}`);
  let handle;
  try {
    // O_NOFOLLOW: a link put in place of the file after the check above is not followed either.
    handle = await open(join(parent, basename(path)), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new OutsidePathError(`${path}: is a symbolic link; it is not followed`);
    throw error;
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new OutsidePathError(`${path}: not a regular file`);
  }
  return handle.createReadStream();
}

function describe(stat: Awaited<ReturnType<typeof lstat>>): Omit<FileEntry, "path"> {
  const type = stat.isDirectory() ? "directory" : stat.isSymbolicLink() ? "symlink" : "file";
  return { type, size: Number(stat.size), mtimeMs: Number(stat.mtimeMs), mode: Number(stat.mode) & 0o7777 };
}
