import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createReadStream } from "node:fs";
import { copyFile, lstat, readdir, readlink, utimes } from "node:fs/promises";
import type { BuildFiles, FileEntry } from "../executors/build-files.ts";
import { localFiles } from "../executors/local-files.ts";
import type { Stats } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { lstatOrUndefined, readTextOrUndefined } from "../file-probes.ts";

/** What a sync did. */
export interface SyncSummary {
  readonly files: number;
  readonly copied: number;
  readonly removed: number;
}

const RUNNER_DIR = ".runner";
const BATCH = 64;

/** The files of a working tree as they are now, listed once per run and copied into each job. */
export interface WorktreeListing {
  readonly root: string;
  /** Whether `root` is the top of a git repository, whose history the copy can then share. */
  readonly isRepositoryRoot: boolean;
  readonly files: ReadonlyMap<string, Stats>;
}

/**
 * Lists the working tree of `root`, uncommitted changes included: tracked and untracked files that
 * git does not ignore (every file when `root` is in no repository), never `.runner/`. `root` may be
 * a subdirectory of a repository; paths are relative to it.
 */
export async function listWorktree(options: {
  root: string;
  isRepository: boolean;
  isRepositoryRoot: boolean;
  env: Record<string, string>;
}): Promise<WorktreeListing> {
  const { root } = options;
  const paths = options.isRepository ? await gitFiles(root, options.env) : await walkFiles(root, [".git"]);
  const files = new Map<string, Stats>();
  await inBatches(paths, async (path) => {
    const stat = await lstat(join(root, path)).catch(() => undefined);
    if (stat && !stat.isDirectory()) files.set(path, stat);
  });
  return { root, isRepositoryRoot: options.isRepository && options.isRepositoryRoot, files };
}

/** Where a working tree is copied to: a directory in an executor's build files. */
export interface SyncTarget {
  readonly files: BuildFiles;
  readonly dir: string;
}

/**
 * Makes `target.dir` hold the listed working tree. Only changed files are copied (size, mtime to
 * the second and mode decide), and whatever else is there is removed, as `git clean -ffdx` would.
 * For a repository's top copied on this machine, `.git` is a small repository of its own that
 * borrows the objects of the original and has HEAD detached at `sha`, as GitLab's checkout has.
 */
export async function syncWorktree(
  listing: WorktreeListing,
  target: SyncTarget,
  options: {
    sha: string;
    env: Record<string, string>;
    /**
     * What GitLab's fetch gives a job's repository: the `origin` remote (the user's URL) and its
     * remote-tracking refs (the pipeline's branch at `sha`, the default branch as the user has it).
     */
    origin?: OriginFacts;
  },
): Promise<SyncSummary> {
  const { root, files } = listing;
  const { dir } = target;
  await target.files.mkdir(dir);
  const existing = new Map<string, FileEntry>();
  for (const entry of await target.files.list(dir, { unwanted: ".git" })) {
    if (entry.path !== ".git" && !entry.path.startsWith(".git/")) existing.set(entry.path, entry);
  }
  const toCopy: string[] = [];
  await inBatches([...files], async ([path, from]) => {
    if (!(await sameEntry(join(root, path), from, target, join(dir, path), existing.get(path)))) toCopy.push(path);
  });
  const stale = [...existing.values()].filter((e) => e.type !== "directory" && !files.has(e.path)).map((e) => e.path);
  await inBatches(stale, (path) => target.files.remove(join(dir, path)));
  await removeEmptyDirectories(target, existing, files);
  await inBatches(toCopy, (path) => copyEntry(join(root, path), target, join(dir, path)));
  if (listing.isRepositoryRoot && target.files === localFiles) {
    await linkRepository(root, dir, options.sha, options.env);
    if (options.origin) await linkOrigin(dir, options.sha, options.origin, options.env);
  }
  return { files: files.size, copied: toCopy.length, removed: stale.length };
}

/** Files are the same when size, mtime (to the second, as SFTP keeps it) and mode agree; links when they point at the same path. */
async function sameEntry(fromPath: string, from: Stats, target: SyncTarget, toPath: string, to: FileEntry | undefined): Promise<boolean> {
  if (to === undefined || (to.type === "symlink") !== from.isSymbolicLink()) return false;
  if (from.isSymbolicLink()) return (await readlink(fromPath)) === (await target.files.readlink(toPath));
  return to.type === "file" && to.size === from.size && Math.floor(to.mtimeMs / 1000) === Math.floor(from.mtimeMs / 1000) &&
    to.mode === (from.mode & 0o7777);
}

async function copyEntry(from: string, target: SyncTarget, to: string): Promise<void> {
  const stat = await lstat(from);
  await target.files.mkdir(dirname(to));
  await target.files.remove(to);
  if (stat.isSymbolicLink()) return target.files.symlink(await readlink(from), to);
  if (target.files === localFiles) {
    await copyFile(from, to);
    await utimes(to, stat.atime, stat.mtime);
    return;
  }
  const { pipeline } = await import("node:stream/promises");
  await pipeline(createReadStream(from), target.files.write(to, stat.mode & 0o7777));
  await target.files.setModeAndTime(to, stat.mode & 0o7777, stat.mtimeMs);
}

/** The files git would show in the tree: tracked ones and untracked ones it does not ignore. */
async function gitFiles(root: string, env: Record<string, string>): Promise<string[]> {
  const child = Bun.spawn(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root, env, stdout: "pipe", stderr: "pipe", stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited,
  ]);
  if (code !== 0) throw new Error(`Cannot list the files of ${root}: ${err.trim()}`);
  const unique = new Set(out.split("\0").filter((p) => p.length > 0 && !isRunnerPath(p)));
  return [...unique];
}

async function walkFiles(dir: string, skip: readonly string[]): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) continue;
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/");
    const top = path.split("/")[0]!;
    if (skip.includes(top) || isRunnerPath(path)) continue;
    files.push(path);
  }
  return files;
}

function isRunnerPath(path: string): boolean {
  return path === RUNNER_DIR || path.startsWith(`${RUNNER_DIR}/`);
}

async function removeEmptyDirectories(target: SyncTarget, existing: ReadonlyMap<string, FileEntry>, wanted: ReadonlyMap<string, unknown>): Promise<void> {
  const keep = new Set<string>();
  for (const path of wanted.keys()) {
    for (let parent = dirname(path); parent !== "." && !keep.has(parent); parent = dirname(parent)) keep.add(parent);
  }
  const dirs = [...existing.values()].filter((e) => e.type === "directory" && !keep.has(e.path)).map((e) => e.path);
  for (const dir of dirs.sort((a, b) => b.length - a.length)) await target.files.remove(join(target.dir, dir));
}

/**
 * A repository in `dest` that reads its objects from `root` and has HEAD detached at `sha`. The
 * few small files of the two `.git`s are read and written synchronously: each asynchronous call
 * waited for the event loop, busy setting the job up, and the copy ended ~1.5 ms after the first
 * stage instead of before it (a trivial job's timeline).
 */
async function linkRepository(root: string, dest: string, sha: string, env: Record<string, string>): Promise<void> {
  const gitDir = join(dest, ".git");
  if (!existsSync(join(gitDir, "HEAD"))) {
    await run(["git", "-c", "init.defaultBranch=main", "-c", "init.defaultRefFormat=files", "init", "-q", dest], env);
  }
  const objects = await gitPath(root, "objects", env);
  const alternates = join(gitDir, "objects", "info", "alternates");
  if ((readTextOrUndefined(alternates) ?? "") !== `${objects}\n`) {
    mkdirSync(dirname(alternates), { recursive: true });
    writeFileSync(alternates, `${objects}\n`);
  }
  const head = readTextOrUndefined(join(gitDir, "HEAD")) ?? "";
  if (head.trim() !== sha && /^[0-9a-f]{40,64}$/.test(sha) && !/^0+$/.test(sha)) {
    writeFileSync(join(gitDir, "HEAD"), `${sha}\n`);
    await run(["git", "-C", dest, "read-tree", sha], env);
  }
}

/** The `origin` a job's repository is given: the user's URL and where their branches are. */
export interface OriginFacts {
  readonly url?: string;
  /** The pipeline's branch, at the pipeline's commit. */
  readonly branch?: string;
  readonly defaultBranch?: string;
  /** Where the user's `origin/<default>` (else their local default branch) points. */
  readonly defaultBranchCommit?: string;
}

/**
 * `origin` as GitLab's fetch leaves it: its URL and `refs/remotes/origin/<branch>` for the pipeline's
 * branch (at `sha`) and the default branch, so `git diff origin/main…HEAD` works as in a GitLab job,
 * with no network. What is already so (a kept build directory) costs no git call.
 */
async function linkOrigin(dest: string, sha: string, origin: OriginFacts, env: Record<string, string>): Promise<void> {
  const git = (args: string[], stdin?: string) => run(["git", "-C", dest, ...args], env, stdin);
  const gitDir = join(dest, ".git");
  if (origin.url && !hasOriginRemote(readTextOrUndefined(join(gitDir, "config")) ?? "", origin.url)) {
    await git(["config", "remote.origin.url", origin.url]);
    await git(["config", "remote.origin.fetch", ORIGIN_FETCH]);
  }
  const refs = new Map<string, string>();
  if (origin.defaultBranch && origin.defaultBranchCommit) refs.set(origin.defaultBranch, origin.defaultBranchCommit);
  if (origin.branch && /^[0-9a-f]{40,64}$/.test(sha) && !/^0+$/.test(sha)) refs.set(origin.branch, sha);
  const updates: string[] = [];
  for (const [branch, at] of refs) {
    const ref = `refs/remotes/origin/${branch}`;
    // The build repository is made with loose refs (init.defaultRefFormat=files); a packed or
    // missing one is simply updated.
    if ((readTextOrUndefined(join(gitDir, ref)) ?? "").trim() !== at) updates.push(`update ${ref} ${at}\n`);
  }
  if (updates.length > 0) await git(["update-ref", "--stdin"], updates.join("")).catch(() => {});
}

const ORIGIN_FETCH = "+refs/heads/*:refs/remotes/origin/*";

/** Whether git's config text already has `origin` with this URL and GitLab's refspec (plain values only). */
function hasOriginRemote(config: string, url: string): boolean {
  if (!/^[^\s"\\#;]+$/.test(url)) return false;
  const section = /^\[remote "origin"\]\n((?:\t.*\n)*)/m.exec(config)?.[1] ?? "";
  const lines = section.split("\n");
  return lines.includes(`\turl = ${url}`) && lines.includes(`\tfetch = ${ORIGIN_FETCH}`) &&
    lines.filter((l) => l.startsWith("\turl = ") || l.startsWith("\tfetch = ")).length === 2;
}

async function gitPath(root: string, name: string, env: Record<string, string>): Promise<string> {
  // A plain .git directory needs no question to git; worktrees and submodules (.git files) do.
  if (isDirectory(join(root, ".git"))) return join(root, ".git", name);
  const out = await run(["git", "-C", root, "rev-parse", "--path-format=absolute", "--git-path", name], env);
  return out.trim();
}

function isDirectory(path: string): boolean {
  return lstatOrUndefined(path)?.isDirectory() ?? false;
}

async function run(argv: string[], env: Record<string, string>, stdin?: string): Promise<string> {
  const child = Bun.spawn(argv, { env, stdout: "pipe", stderr: "pipe", stdin: stdin === undefined ? "ignore" : new Blob([stdin]) });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited,
  ]);
  if (code !== 0) throw new Error(`${argv.slice(0, 4).join(" ")} failed: ${err.trim()}`);
  return out;
}

async function inBatches<T>(items: readonly T[], task: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(task));
}
