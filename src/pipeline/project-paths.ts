import { realpathSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { ConfigError } from "./config-error.ts";

/** What the runner keeps in a project (builds, caches, run records): never part of what GitLab sees. */
const RUNNER_DIRECTORY = ".runner";

/**
 * The file `path` of the project at `root` (an include's `local:`), or undefined when there is none.
 * A path that leads out of the project — `../x.yml`, or a symbolic link to a file elsewhere — is
 * refused: GitLab reads includes from the repository only, and a local run must not read further.
 */
export function projectFile(root: string, path: string): string | undefined {
  const full = join(root, path);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    return leavesProject(root, full) ? refuse(path) : undefined;
  }
  const realRoot = realpathSync(root);
  return real === realRoot || real.startsWith(realRoot + sep) ? real : refuse(path);
}

/** Whether a glob's match is part of the project as GitLab would see it (not `.runner/`, not `.git/`). */
export function isProjectPath(path: string): boolean {
  const first = path.split("/")[0];
  return first !== RUNNER_DIRECTORY && first !== ".git";
}

function leavesProject(root: string, full: string): boolean {
  const rel = relative(root, full);
  return rel === ".." || rel.startsWith(`..${sep}`);
}

function refuse(path: string): never {
  throw new ConfigError(`Local file \`${path}\` is outside the project: includes are read from the repository only`);
}
