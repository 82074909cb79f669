import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { readPlainGitConfig } from "./git-config.ts";

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

/** Reads the facts with three concurrent git calls; a directory that is no repository gets defaults. */
export async function readGitFacts(cwd: string, env: Record<string, string>): Promise<GitFacts> {
  const format = ["%H", "%D", "%an", "%ae", "%cI", "%B"].join(SEP);
  const top = findRepositoryRoot(cwd);
  // Plain config files are read here; git is asked only when they use what only git understands.
  const plain = readPlainGitConfig(top, env);
  const defaultBranch = top === undefined ? undefined : readDefaultBranch(top);
  const [head, config, defaultBranchCommit] = await Promise.all([
    top === undefined ? undefined : git(cwd, env, ["log", "-1", `--format=${format}`]),
    plain ?? git(cwd, env, ["config", "--get-regexp", "^(remote\\.origin\\.url|user\\.name|user\\.email)$"]),
    defaultBranch === undefined ? undefined : branchCommit(cwd, env, defaultBranch),
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

/** The commit of `origin/<branch>` if the user has it, else of their local `<branch>`. */
async function branchCommit(cwd: string, env: Record<string, string>, branch: string): Promise<string | undefined> {
  const remote = `refs/remotes/origin/${branch}`;
  const out = await git(cwd, env, ["for-each-ref", "--format=%(refname)%00%(objectname)", remote, `refs/heads/${branch}`]);
  const refs = new Map((out ?? "").split("\n").filter((l) => l.includes("\0")).map((l) => l.split("\0") as [string, string]));
  return refs.get(remote) ?? refs.get(`refs/heads/${branch}`);
}

/**
 * The default branch, read from files (no git call): origin's HEAD when the clone has it, else a
 * local `main` or `master`; undefined when none of them says.
 */
function readDefaultBranch(top: string): string | undefined {
  const gitDir = join(top, ".git");
  const read = (path: string) => {
    try {
      return readFileSync(join(gitDir, path), "utf8");
    } catch {
      return undefined;
    }
  };
  const originHead = /^ref: refs\/remotes\/origin\/(.+)$/m.exec(read("refs/remotes/origin/HEAD") ?? "")?.[1];
  if (originHead) return originHead.trim();
  const packed = read("packed-refs") ?? "";
  return ["main", "master"].find((name) => existsSync(join(gitDir, "refs", "heads", name)) || packed.includes(` refs/heads/${name}\n`));
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
