import { join, posix } from "node:path";
import { ListingError } from "../../executors/build-files.ts";
import type { BuildFiles } from "../../executors/build-files.ts";

/** What `paths`, `exclude` and `untracked` picked, and what they said about it. */
export interface Collected {
  /** Paths relative to the project directory: files, symbolic links and directories. */
  readonly entries: readonly string[];
  /** GitLab Runner's log lines, e.g. `coverage/: found 12 matching artifact files and directories`. */
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Collects the entries of an artifact or cache: every `paths` glob (`**` included, a directory
 * brings its whole tree), plus untracked files when asked, minus what an `exclude` glob matches.
 * Nothing outside the project directory is ever taken.
 */
export async function collectEntries(options: {
  files: BuildFiles;
  projectDir: string;
  paths: readonly string[];
  exclude?: readonly string[];
  /** The untracked files, when the job asks for them and they can be listed here. */
  untracked?: () => Promise<readonly string[]>;
  kind: "artifact" | "cache";
}): Promise<Collected> {
  const all = await options.files.list(options.projectDir).catch((error: unknown) => {
    // An incomplete listing would save an incomplete archive as if it were whole: it fails instead.
    if (error instanceof ListingError) throw new CollectError(`${options.kind === "cache" ? "cache" : "artifacts"}: ${error.message}`);
    throw error;
  });
  const found = new Set<string>();
  const lines: string[] = [];
  const warnings: string[] = [];
  const inProject = (raw: string) => projectRelative(options.projectDir, raw);
  const excludes = (options.exclude ?? []).flatMap((p) => {
    const pattern = inProject(p);
    return pattern === undefined ? [] : [new Bun.Glob(pattern)];
  });
  const excluded = (path: string) => excludes.some((g) => g.match(path));
  for (const raw of options.paths) {
    const pattern = inProject(raw);
    if (pattern === undefined) {
      warnings.push(`processPath: ${options.kind} path is not a subpath of project directory: ${raw}`);
      continue;
    }
    const glob = new Bun.Glob(pattern);
    const roots = all.filter((e) => glob.match(e.path));
    let count = 0;
    for (const root of roots) {
      const below = root.type === "directory" ? all.filter((e) => e.path.startsWith(`${root.path}/`)) : [];
      for (const entry of [root, ...below]) {
        if (excluded(entry.path) || found.has(entry.path)) continue;
        found.add(entry.path);
        count++;
      }
    }
    if (count === 0) warnings.push(`${raw}: no matching files. Ensure that the ${options.kind} path is relative to the working directory (${options.projectDir})`);
    else lines.push(`${raw}: found ${count} matching ${options.kind} files and directories`);
  }
  if (options.untracked) {
    let count = 0;
    for (const entry of await options.untracked()) {
      if (excluded(entry) || found.has(entry)) continue;
      found.add(entry);
      count++;
    }
    lines.push(`untracked: found ${count} files`);
  }
  return { entries: [...found].sort(), lines, warnings };
}

/** The untracked files of a local git work tree (`git ls-files --others`). */
export async function localUntrackedFiles(projectDir: string): Promise<string[]> {
  const child = Bun.spawn(["git", "ls-files", "-z", "--others"], {
    cwd: projectDir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdout: "pipe", stderr: "ignore",
  });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return code === 0 ? out.split("\0").filter(Boolean) : [];
}

/**
 * A `paths` or `exclude` pattern relative to the project directory, as GitLab Runner takes it
 * (`filepath.Abs` then `filepath.Rel`): `./a/b/` → `a/b`, `$CI_PROJECT_DIR/out/` → `out`; undefined
 * when it leads out of the project directory (`../x`, `/etc`).
 */
export function projectRelative(projectDir: string, pattern: string): string | undefined {
  const trimmed = pattern.trim().replace(/\/{2,}/g, "/");
  const relative = posix.relative(projectDir, posix.resolve(projectDir, trimmed));
  if (relative === ".." || relative.startsWith("../") || posix.isAbsolute(relative)) return undefined;
  // `.` (or the project directory's own path) is the whole directory.
  return relative === "" ? "**" : relative;
}

/** Collecting the entries failed: the archive would be incomplete. */
export class CollectError extends Error {
  override readonly name = "CollectError";
}

/** The absolute path of a collected entry. */
export function entryPath(projectDir: string, entry: string): string {
  return join(projectDir, entry);
}
