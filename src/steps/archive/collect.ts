import { lstat, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** What `paths`, `exclude` and `untracked` picked, and what they said about it. */
export interface Collected {
  /** Paths relative to the project directory: files, symbolic links and (empty) directories. */
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
  projectDir: string;
  paths: readonly string[];
  exclude?: readonly string[];
  untracked?: boolean;
  kind: "artifact" | "cache";
  env: Record<string, string>;
}): Promise<Collected> {
  const { projectDir } = options;
  const found = new Set<string>();
  const lines: string[] = [];
  const warnings: string[] = [];
  const excludes = (options.exclude ?? []).map((p) => new Bun.Glob(clean(p)));
  const excluded = (path: string) => excludes.some((g) => g.match(path) || g.match(`${path}/`));
  for (const raw of options.paths) {
    const pattern = clean(raw);
    if (pattern === "" || pattern.startsWith("..") || pattern.startsWith("/")) {
      warnings.push(`${raw}: not in the project directory; ignored`);
      continue;
    }
    let count = 0;
    for await (const match of new Bun.Glob(pattern).scan({ cwd: projectDir, dot: true, onlyFiles: false, followSymlinks: false })) {
      for (const entry of await expand(projectDir, match)) {
        if (excluded(entry) || found.has(entry)) continue;
        found.add(entry);
        count++;
      }
    }
    if (count === 0) warnings.push(`${raw}: no matching files. Ensure that the ${options.kind} path is relative to the working directory (${projectDir})`);
    else lines.push(`${raw}: found ${count} matching ${options.kind} files and directories`);
  }
  if (options.untracked) {
    const untracked = await untrackedFiles(projectDir, options.env);
    let count = 0;
    for (const entry of untracked) {
      if (excluded(entry) || found.has(entry)) continue;
      found.add(entry);
      count++;
    }
    lines.push(`untracked: found ${count} files`);
  }
  return { entries: [...found].sort(), lines, warnings };
}

/** A match, or every entry below it when it is a directory (the directory itself first). */
async function expand(root: string, path: string): Promise<string[]> {
  const normalized = path.split(sep).join("/").replace(/\/$/, "");
  const stat = await lstat(join(root, normalized)).catch(() => undefined);
  if (!stat) return [];
  if (!stat.isDirectory()) return [normalized];
  const below = await readdir(join(root, normalized), { recursive: true, withFileTypes: true });
  return [normalized, ...below.map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"))];
}

async function untrackedFiles(projectDir: string, env: Record<string, string>): Promise<string[]> {
  const child = Bun.spawn(["git", "ls-files", "-z", "--others"], { cwd: projectDir, env, stdout: "pipe", stderr: "ignore" });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return code === 0 ? out.split("\0").filter(Boolean) : [];
}

/** `./a/b/` → `a/b/`, `a//b` → `a/b`; a trailing slash names a directory, which is kept. */
function clean(pattern: string): string {
  return pattern.trim().replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/");
}
