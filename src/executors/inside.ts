import { posix } from "node:path";

/** Whether `path` is `root` or below it (both absolute and normalised, `/`-separated). */
export function isInside(path: string, root: string): boolean {
  const relative = posix.relative(root, path);
  return relative === "" || (!relative.startsWith("../") && relative !== ".." && !posix.isAbsolute(relative));
}
