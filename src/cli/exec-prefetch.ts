import { resolve } from "node:path";
import { ShellHeadStart } from "../executors/shell/shell-head-start.ts";
import { findRepositoryRoot, readGitFacts, type GitFacts } from "../pipeline/git-facts.ts";
import { listWorktree, type WorktreeListing } from "../local/worktree.ts";
import type { ShellName } from "../shell/shell-writer.ts";
import { localBuildsDir } from "./local-builds-dir.ts";

/**
 * What `runner exec` asks git before it knows anything else. Started before the heavier parts of
 * the runner are loaded, so that git runs on another core while they load.
 */
export interface ExecPrefetch {
  readonly cwd: string;
  readonly git: Promise<GitFacts>;
  /** The working tree's listing; started at once inside a repository, else on first use. */
  worktree(): Promise<WorktreeListing>;
  /** The first shell job's first shell, when jobs may run on the shell (discarded by the caller if unclaimed). */
  readonly headStart?: ShellHeadStart;
}

/**
 * Starts the git calls of `runner exec` for the project in `cwd`, and with `shell` (jobs may run on
 * the shell) the first job's first shell. Light: imports no parser.
 */
export function startExecPrefetch(cwdOption: string, env: Record<string, string>, shell?: { shell: ShellName; buildsDir?: string }): ExecPrefetch {
  const cwd = resolve(cwdOption);
  const repositoryRoot = findRepositoryRoot(cwd);
  let listing: Promise<WorktreeListing> | undefined;
  const worktree = () => {
    listing ??= listWorktree({
      root: cwd, isRepository: repositoryRoot !== undefined, isRepositoryRoot: repositoryRoot === cwd, env,
    });
    listing.catch(() => {}); // Awaited by each job's get_sources, which reports the failure.
    return listing;
  };
  // A directory outside git is walked whole, so that waits until the pipeline is known to be valid.
  if (repositoryRoot !== undefined) worktree();
  // The walk up for `.git` is made once, here: git's facts are read from the root it found.
  const git = readGitFacts(cwd, env, { root: repositoryRoot });
  git.catch(() => {});
  // After git's processes are started: they answer while the shell starts and the parser loads.
  const headStart = shell ? new ShellHeadStart({ shell: shell.shell, buildsDir: localBuildsDir(cwd, shell.buildsDir), hostEnv: env }) : undefined;
  return { cwd, git, worktree, ...(headStart ? { headStart } : {}) };
}
