import type { Readable, Writable } from "node:stream";

/** One entry of a build directory tree. */
export interface FileEntry {
  /** Relative to the directory that was listed, `/`-separated. */
  readonly path: string;
  readonly type: "file" | "directory" | "symlink";
  readonly size: number;
  readonly mtimeMs: number;
  /** Permission bits (0o777 and the like). */
  readonly mode: number;
}

/** A path would lead out of the directory it must stay in (through `..` or a symbolic link). */
export class OutsidePathError extends Error {
  override readonly name = "OutsidePathError";
}

/** A directory below the one being listed could not be read: the listing is incomplete. */
export class ListingError extends Error {
  override readonly name = "ListingError";
}

/**
 * The files of a job's build directory, wherever they are: on this machine (shell executor) or on
 * a remote host (SSH, over SFTP). Artifacts, caches and the working-tree copy use only this, so the
 * same code serves every executor. Paths are absolute on the side where the files are.
 *
 * A job controls what is in its build directory, so nothing here follows a symbolic link out of it:
 * listings never descend into links (a link is an entry of its own, as in GitLab Runner's archives),
 * and a file is only read when the real path of its directory is inside the given root.
 */
export interface BuildFiles {
  /**
   * Every entry below `dir`, recursively, sorted, never descending into a symbolic link; `[]` when
   * `dir` does not exist. Throws {@link ListingError} when a directory below it cannot be read.
   * `unwanted` names an entry directly below `dir` the caller has no use for (the copy's own
   * `.git`): it may be left out with everything below it, where that saves the walk (on this
   * machine), so the caller still passes over what it gets of it.
   */
  list(dir: string, options?: { readonly unwanted?: string }): Promise<FileEntry[]>;
  /** The entry at `path` without following a final symbolic link; undefined when there is none. */
  stat(path: string): Promise<Omit<FileEntry, "path"> | undefined>;
  /**
   * The regular file at `path`, read without following a symbolic link: throws
   * {@link OutsidePathError} when `path` is a link, or when its directory's real path is not inside
   * `root`'s.
   */
  readInside(root: string, path: string): Promise<Readable>;
  /** A stream writing `path` (replacing it), created with `mode`. */
  write(path: string, mode: number): Writable;
  mkdir(path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  symlink(target: string, path: string): Promise<void>;
  /** Removes a file, a link or a whole tree; nothing when it is not there. */
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  setModeAndTime(path: string, mode: number, mtimeMs: number): Promise<void>;
  /** Gives `path` to the user `uid` and group `gid`. */
  setOwner(path: string, uid: number, gid: number): Promise<void>;
  /** The path with every symbolic link resolved. */
  realpath(path: string): Promise<string>;
}
