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

/**
 * The files of a job's build directory, wherever they are: on this machine (shell executor) or on
 * a remote host (SSH, over SFTP). Artifacts, caches and the working-tree copy use only this, so the
 * same code serves every executor. Paths are absolute on the side where the files are.
 */
export interface BuildFiles {
  /** Every entry below `dir`, recursively, sorted; `[]` when `dir` does not exist. */
  list(dir: string): Promise<FileEntry[]>;
  /** The entry at `path` without following a final symbolic link; undefined when there is none. */
  stat(path: string): Promise<Omit<FileEntry, "path"> | undefined>;
  read(path: string): Readable;
  /** A stream writing `path` (replacing it), created with `mode`. */
  write(path: string, mode: number): Writable;
  mkdir(path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  symlink(target: string, path: string): Promise<void>;
  /** Removes a file, a link or a whole tree; nothing when it is not there. */
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  setModeAndTime(path: string, mode: number, mtimeMs: number): Promise<void>;
  /** The path with every symbolic link resolved. */
  realpath(path: string): Promise<string>;
}
