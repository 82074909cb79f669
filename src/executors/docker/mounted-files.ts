import { posix } from "node:path";
import type { BuildFiles } from "../build-files.ts";
import { localFiles } from "../local-files.ts";

/**
 * The files of a volume whose data directory this machine can reach (a local engine's
 * `Mountpoint`): paths as the containers see them (`/builds/...`) are read and written through
 * the data directory, so artifacts and caches move without a round trip through the engine.
 */
export function mountedFiles(containerRoot: string, hostRoot: string): BuildFiles {
  const toHost = (path: string) => {
    const inside = posix.relative(containerRoot, posix.resolve(containerRoot, path));
    if (inside.startsWith("..")) throw new Error(`${path} is outside the build volume ${containerRoot}`);
    return posix.join(hostRoot, inside);
  };
  const toContainer = (path: string) => posix.join(containerRoot, posix.relative(hostRoot, path));
  return {
    list: (dir) => localFiles.list(toHost(dir)),
    stat: (path) => localFiles.stat(toHost(path)),
    readInside: (root, path) => localFiles.readInside(toHost(root), toHost(path)),
    write: (path, mode) => localFiles.write(toHost(path), mode),
    mkdir: (path) => localFiles.mkdir(toHost(path)),
    readlink: (path) => localFiles.readlink(toHost(path)),
    symlink: (target, path) => localFiles.symlink(target, toHost(path)),
    remove: (path) => localFiles.remove(toHost(path)),
    rename: (from, to) => localFiles.rename(toHost(from), toHost(to)),
    setModeAndTime: (path, mode, mtimeMs) => localFiles.setModeAndTime(toHost(path), mode, mtimeMs),
    setOwner: (path, uid, gid) => localFiles.setOwner(toHost(path), uid, gid),
    realpath: async (path) => toContainer(await localFiles.realpath(toHost(path))),
  };
}
