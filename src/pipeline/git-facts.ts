import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { readPlainGitConfig } from "./git-config.ts";
import { readTextOrUndefined } from "../file-probes.ts";

/** What a local run knows about the repository it runs in. */
export interface GitFacts {
  /** The repository's top directory, or the working directory when it is not a git repository. */
  readonly root: string;
  readonly isRepository: boolean;
  readonly sha: string;
  readonly ref: string;
  readonly refType: "branch" | "tag";
  readonly tag?: string;
  readonly message: string;
  readonly authorName: string;
  readonly authorEmail: string;
  readonly timestamp: string;
  readonly remoteUrl?: string;
  readonly userName?: string;
  readonly userEmail?: string;
  /** The repository's default branch (origin's HEAD, else a local main or master), for CI_DEFAULT_BRANCH. */
  readonly defaultBranch?: string;
  /** Where the default branch is: the user's `origin/<default>`, else their local branch. */
  readonly defaultBranchCommit?: string;
}

export const ZERO_SHA = "0000000000000000000000000000000000000000";

const SEP = "\x1f";

/** Reads the facts: `git log` for the commit, files for the rest where plain files can say (else git); no repository gets defaults. */
export async function readGitFacts(cwd: string, env: Record<string, string>, repository: RepositoryLookup = { root: findRepositoryRoot(cwd) }): Promise<GitFacts> {
  const format = ["%H", "%D", "%an", "%ae", "%cI", "%B"].join(SEP);
  const top = repository.root;
  // git first: it answers while the files are read.
  const log = top === undefined ? undefined : git(cwd, env, ["log", "-1", `--format=${format}`]);
  // Plain config files are read here; git is asked only when they use what only git understands.
  const plain = readPlainGitConfig(top, env);
  const refsDir = top === undefined ? undefined : sharedGitDir(top);
  const sharedRefs = refsDir === undefined ? undefined : refFiles(refsDir);
  const defaultBranch = sharedRefs === undefined ? undefined : readDefaultBranch(sharedRefs);
  const [head, config, defaultBranchCommit] = await Promise.all([
    log,
    plain ?? git(cwd, env, ["config", "--get-regexp", "^(remote\\.origin\\.url|user\\.name|user\\.email)$"]),
    sharedRefs === undefined || defaultBranch === undefined ? undefined : branchCommit(sharedRefs, cwd, env, defaultBranch),
  ]);
  const settings = config instanceof Map ? config : new Map<string, string>();
  for (const line of (typeof config === "string" ? config : "").split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) settings.set(line.slice(0, space), line.slice(space + 1));
  }
  const common = {
    remoteUrl: settings.get("remote.origin.url"),
    userName: settings.get("user.name"),
    userEmail: settings.get("user.email"),
  };
  if (top === undefined || head === undefined) {
    return {
      root: top ?? cwd, isRepository: top !== undefined, sha: ZERO_SHA, ref: "main", refType: "branch",
      message: "", authorName: "", authorEmail: "", timestamp: new Date().toISOString(), ...common,
    };
  }
  const [sha = ZERO_SHA, decoration = "", authorName = "", authorEmail = "", timestamp = "", message = ""] =
    head.replace(/\n$/, "").split(SEP);
  const refs = decoration.split(", ").filter((r) => r.length > 0);
  const branch = refs.find((r) => r.startsWith("HEAD -> "))?.slice("HEAD -> ".length);
  const tag = refs.find((r) => r.startsWith("tag: "))?.slice("tag: ".length);
  const ref = branch ?? tag ?? "HEAD";
  return {
    root: top, isRepository: true, sha, ref, refType: branch === undefined && tag ? "tag" : "branch",
    ...(tag && !branch ? { tag } : {}), message: message.replace(/\n+$/, ""), authorName, authorEmail, timestamp,
    ...common, ...(defaultBranch ? { defaultBranch } : {}), ...(defaultBranchCommit ? { defaultBranchCommit } : {}),
  };
}

/**
 * The commit of `origin/<branch>` if the user has it, else of their local `<branch>`: from the ref
 * files when the repository keeps its refs in files, else from git.
 */
async function branchCommit(refs: RefFiles, cwd: string, env: Record<string, string>, branch: string): Promise<string | undefined> {
  const names = [`refs/remotes/origin/${branch}`, `refs/heads/${branch}`];
  const fromFiles = refsFromFiles(refs, names);
  if (fromFiles !== undefined) return names.map((name) => fromFiles.get(name)).find((sha) => sha !== undefined);
  const out = await git(cwd, env, ["for-each-ref", "--format=%(refname)%00%(objectname)", ...names]);
  const listed = new Map((out ?? "").split("\n").filter((l) => l.includes("\0")).map((l) => l.split("\0") as [string, string]));
  return names.map((name) => listed.get(name)).find((sha) => sha !== undefined);
}

const OBJECT_NAME = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The git directory with the shared refs, its files read on demand and `packed-refs` parsed once. */
interface RefFiles {
  readonly dir: string;
  read(path: string): string | undefined;
  packed(): ReadonlyMap<string, string>;
}

function refFiles(gitDir: string): RefFiles {
  let packed: Map<string, string> | undefined;
  const read = (path: string) => readTextOrUndefined(join(gitDir, path));
  return { dir: gitDir, read, packed: () => (packed ??= packedRefs(read("packed-refs") ?? "")) };
}

/**
 * Where `names` point, read as git's files backend keeps refs (a loose file `<gitDir>/<name>`
 * holding the object name wins over its line in `packed-refs`); a name that is no ref is missing
 * from the map. Undefined when the files cannot say: the refs are in a reftable, or a ref is
 * symbolic. (Spares a trivial `runner exec` a git process.)
 */
function refsFromFiles(refs: RefFiles, names: readonly string[]): Map<string, string> | undefined {
  if (existsSync(join(refs.dir, "reftable"))) return undefined;
  const found = new Map<string, string>();
  for (const name of names) {
    const loose = refs.read(name)?.trim();
    if (loose !== undefined) {
      if (!OBJECT_NAME.test(loose)) return undefined;
      found.set(name, loose);
      continue;
    }
    const sha = refs.packed().get(name);
    if (sha !== undefined) found.set(name, sha);
  }
  return found;
}

/** `packed-refs`: `<object name> <ref>` lines; `#` starts the header, `^` a peeled tag's line. */
function packedRefs(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.startsWith("^")) continue;
    const space = line.indexOf(" ");
    if (space > 0 && OBJECT_NAME.test(line.slice(0, space))) refs.set(line.slice(space + 1).trim(), line.slice(0, space));
  }
  return refs;
}

/**
 * The git directory holding the refs that all of a repository's worktrees share: `<top>/.git`, or
 * for a linked worktree or a submodule (whose `.git` file says `gitdir: <dir>`) that directory's
 * `commondir`, else the directory itself (gitrepository-layout(5)).
 */
function sharedGitDir(top: string): string | undefined {
  const dotGit = join(top, ".git");
  try {
    if (statSync(dotGit).isDirectory()) return dotGit;
  } catch {
    return undefined;
  }
  const named = /^gitdir: (.+)$/m.exec(readTextOrUndefined(dotGit) ?? "")?.[1]?.trim();
  if (!named) return undefined;
  const gitDir = resolve(top, named);
  const common = readTextOrUndefined(join(gitDir, "commondir"))?.trim();
  return common ? resolve(gitDir, common) : gitDir;
}

/**
 * The default branch, read from files (no git call): origin's HEAD when the clone has it, else a
 * local `main` or `master`; undefined when none of them says.
 */
function readDefaultBranch(refs: RefFiles): string | undefined {
  const originHead = /^ref: refs\/remotes\/origin\/(.+)$/m.exec(refs.read("refs/remotes/origin/HEAD") ?? "")?.[1];
  if (originHead) return originHead.trim();
  return ["main", "master"].find((name) => existsSync(join(refs.dir, "refs", "heads", name)) || refs.packed().has(`refs/heads/${name}`));
}

/** What {@link findRepositoryRoot} found for a directory, for a caller that looked already: `root` undefined outside a repository. */
export interface RepositoryLookup {
  readonly root: string | undefined;
}

/** The nearest directory at or above `cwd` that holds `.git` (a directory, or a file for worktrees). */
export function findRepositoryRoot(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

async function git(cwd: string, env: Record<string, string>, args: string[]): Promise<string | undefined> {
  try {
    const child = Bun.spawn(["git", ...args], { cwd, env, stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    return code === 0 ? out : undefined;
  } catch {
    return undefined;
  }
}
