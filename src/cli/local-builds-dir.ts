import { join, resolve } from "node:path";

/** Where `runner exec`'s shell jobs run: `--builds-dir` (from the project), else the project's `.runner/builds`. */
export function localBuildsDir(cwd: string, buildsDirOption: string | undefined): string {
  return buildsDirOption ? resolve(cwd, buildsDirOption) : join(cwd, ".runner", "builds");
}
