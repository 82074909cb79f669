import { lstatSync, readFileSync, type Stats } from "node:fs";

/**
 * Looks at a file that may not be there, or not be readable (a process gone from /proc, a ref git
 * never wrote, a path the job removed): undefined instead of an error. For reads where absence is an
 * answer, not a failure; anything that must be reported reads the file itself.
 */
export function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** {@link readTextOrUndefined}'s bytes. */
export function readBytesOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** lstat(2) where it stands; undefined for what cannot be looked at (missing, no permission). */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
