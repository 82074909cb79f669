import { join, posix } from "node:path";
import type { SFTPWrapper, Stats } from "ssh2";
import { ListingError, OutsidePathError, type BuildFiles, type FileEntry } from "../build-files.ts";
import { isInside } from "../inside.ts";

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** An SFTP call as a promise. */
type Call = <T>(fn: (done: (error: Error | null | undefined, value?: T) => void) => void) => Promise<T>;

/** A remote build directory, read and written over SFTP, streaming. */
export function sftpFiles(sftp: SFTPWrapper): BuildFiles {
  const call: Call = (fn) => new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as never))));
  const lstat = (path: string) => call<Stats>((done) => sftp.lstat(path, done)).catch(() => undefined);
  const files: BuildFiles = {
    list: (dir) => listTree(sftp, call, lstat, dir),
    async stat(path) {
      const stats = await lstat(path);
      return stats && describe(stats);
    },
    async readInside(root, path) {
      const [realRoot, parent] = await Promise.all([files.realpath(root), files.realpath(posix.dirname(path))]);
      if (!isInside(parent, realRoot)) throw new OutsidePathError(`${path}: a symbolic link on its way leaves ${root}`);
      const stats = await lstat(posix.join(parent, posix.basename(path)));
      if (!stats?.isFile()) throw new OutsidePathError(`${path}: ${stats?.isSymbolicLink() ? "is a symbolic link; it is not followed" : "not a regular file"}`);
      return sftp.createReadStream(posix.join(parent, posix.basename(path)));
    },
    write: (path, mode) => sftp.createWriteStream(path, { mode }),
    mkdir: (path) => makeDirectories(sftp, call, lstat, path),
    readlink: (path) => call<string>((done) => sftp.readlink(path, done)),
    symlink: (target, path) => call((done) => sftp.symlink(target, path, done)),
    remove: (path) => removeTree(sftp, call, lstat, path),
    async rename(from, to) {
      await files.remove(to);
      await call((done) => sftp.rename(from, to, done));
    },
    setModeAndTime: (path, mode, mtimeMs) =>
      call((done) => sftp.setstat(path, { mode, atime: Math.floor(Date.now() / 1000), mtime: Math.floor(mtimeMs / 1000) }, done)),
    realpath: (path) => call<string>((done) => sftp.realpath(path, done)),
    setOwner: (path, uid, gid) => call((done) => sftp.chown(path, uid, gid, done)),
  };
  return files;
}

type Lstat = (path: string) => Promise<Stats | undefined>;

/** Every entry below `dir`, sorted by path; the root missing is an empty listing, anything else unreadable an error. */
async function listTree(sftp: SFTPWrapper, call: Call, lstat: Lstat, dir: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const walk = async (relative: string) => {
    const path = relative === "" ? dir : posix.join(dir, relative);
    const entries = await call<{ filename: string; attrs: Stats }[]>((done) => sftp.readdir(path, done)).catch(async (error: Error) => {
      if (relative === "" && !(await lstat(path))?.isDirectory()) return [];
      throw new ListingError(`cannot list ${path}: ${error.message}`);
    });
    for (const entry of entries) {
      if (entry.filename === "." || entry.filename === "..") continue;
      const path = relative === "" ? entry.filename : `${relative}/${entry.filename}`;
      const described = describe(entry.attrs);
      out.push({ path, ...described });
      if (described.type === "directory") await walk(path);
    }
  };
  await walk("");
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** `mkdir -p` over SFTP: each missing directory on the way, a concurrent maker's tolerated. */
async function makeDirectories(sftp: SFTPWrapper, call: Call, lstat: Lstat, path: string): Promise<void> {
  const parts = posix.normalize(path).split("/");
  for (let i = 1; i <= parts.length; i++) {
    const partial = parts.slice(0, i).join("/");
    if (partial === "" || partial === ".") continue;
    if ((await lstat(partial))?.isDirectory()) continue;
    await call((done) => sftp.mkdir(partial, done)).catch(async (error) => {
      if (!(await lstat(partial))?.isDirectory()) throw error;
    });
  }
}

/** `rm -rf` over SFTP; a missing path is nothing to do. */
async function removeTree(sftp: SFTPWrapper, call: Call, lstat: Lstat, path: string): Promise<void> {
  const stats = await lstat(path);
  if (!stats) return;
  if (!stats.isDirectory()) return call((done) => sftp.unlink(path, done));
  const entries = await call<{ filename: string }[]>((done) => sftp.readdir(path, done)).catch(() => []);
  for (const entry of entries) if (entry.filename !== "." && entry.filename !== "..") await removeTree(sftp, call, lstat, join(path, entry.filename));
  await call((done) => sftp.rmdir(path, done));
}

function describe(stats: Stats): Omit<FileEntry, "path"> {
  const format = stats.mode & S_IFMT;
  const type = format === S_IFDIR ? "directory" : format === S_IFLNK ? "symlink" : "file";
  return { type, size: stats.size, mtimeMs: stats.mtime * 1000, mode: stats.mode & 0o7777 };
}
