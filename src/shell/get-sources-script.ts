import type { GitInfo } from "../protocol/types.ts";
import type { GitSettings } from "../job/git-settings.ts";
import { writeVariables, type ScriptEnvironment } from "./prelude.ts";
import { createShellWriter, type ShellName, type ShellWriter } from "./shell-writer.ts";
import { writeCommands } from "./user-commands.ts";

/** Everything get_sources needs besides the variables. */
export interface GetSourcesInput {
  readonly git: GitInfo;
  readonly settings: GitSettings;
  /** `-c http.userAgent=…` for every git call that talks to the remote. */
  readonly userAgent: string;
  readonly preCloneCommands?: readonly string[];
  readonly postCloneCommands?: readonly string[];
}

/**
 * The get_sources script: GitLab Runner's clone/fetch/none/empty strategies with the system git,
 * followed by checkout, clean and submodules, printing the lines GitLab prints (docs/protocol.md §9.3).
 */
export function getSourcesScript(shell: ShellName, env: ScriptEnvironment, input: GetSourcesInput): string {
  const w = createShellWriter(shell);
  const { settings } = input;
  writeVariables(w, env);
  w.exportVariable("GIT_TERMINAL_PROMPT", "0");
  w.exportVariable("GCM_INTERACTIVE", "Never");
  const parent = env.projectDir.replace(/\/[^/]+\/?$/, "") || "/";
  w.mkdir(parent);
  w.cd(parent);
  writeCommands(w, "pre_get_sources_script", input.preCloneCommands ?? []);
  switch (settings.strategy) {
    case "none":
      w.notice("Skipping Git repository setup");
      w.mkdir(env.projectDir);
      break;
    case "empty":
      w.notice("Skipping Git repository setup and creating an empty build directory");
      w.rmdir(env.projectDir);
      w.mkdir(env.projectDir);
      break;
    case "clone":
    case "fetch":
      writeFetch(w, env.projectDir, env.tmpDir, input);
      writeCheckout(w, input);
      writeSubmodules(w, input);
      break;
  }
  if ((input.postCloneCommands ?? []).length > 0) {
    w.cd(env.projectDir);
    writeCommands(w, "post_get_sources_script", input.postCloneCommands ?? []);
  }
  return w.finish();
}

/**
 * The hook commands alone (`hooks:pre_get_sources_script` and friends) for a job whose sources arrive
 * another way (a local run's working-tree copy): the variables, then the commands in `dir`.
 */
export function hookScript(shell: ShellName, env: ScriptEnvironment, commands: readonly string[], dir: string): string {
  const w = createShellWriter(shell);
  writeVariables(w, env);
  w.mkdir(dir);
  w.cd(dir);
  writeCommands(w, "hook", commands);
  return w.finish();
}

/**
 * GitLab Runner's writeRefspecFetchCmd (shells/abstract.go): a template that names no default branch
 * and fetches no submodules, `git init` (its own "Initialized empty …" or "Reinitialized existing …"
 * line in the trace; `--object-format sha256` for a SHA-256 project, from `git_info`), the remote
 * added or its URL set, then the fetch of the job's refspecs.
 */
function writeFetch(w: ShellWriter, projectDir: string, tmpDir: string, input: GetSourcesInput): void {
  const { settings, git } = input;
  w.notice(settings.depth > 0 ? `Fetching changes with git depth set to ${settings.depth}...` : "Fetching changes...");
  const template = `${tmpDir}/git-template`;
  w.mkdir(template);
  w.command("git", "config", "-f", `${template}/config`, "init.defaultBranch", "none");
  w.command("git", "config", "-f", `${template}/config`, "fetch.recurseSubmodules", "false");
  if (settings.strategy === "clone") w.rmdir(projectDir);
  for (const lock of ["index.lock", "shallow.lock", "HEAD.lock", "hooks/post-checkout", "config.lock"]) w.command("rm", "-f", `${projectDir}/.git/${lock}`);
  const objectFormat = git.repo_object_format && git.repo_object_format !== "sha1" ? ["--object-format", git.repo_object_format] : [];
  w.command("git", "init", projectDir, "--template", template, ...objectFormat);
  w.cd(projectDir);
  w.ifQuietCommand(
    ["git", "remote", "add", "origin", git.repo_url],
    () => w.notice("Created fresh repository."),
    () => w.command("git", "remote", "set-url", "origin", git.repo_url),
  );
  const fetch = ["git", "-c", `http.userAgent=${input.userAgent}`, "fetch", "origin", "--no-recurse-submodules"];
  const refspecs = git.refspecs.length > 0 ? git.refspecs : defaultRefspecs(git);
  if (settings.depth > 0) {
    w.command(...fetch, ...refspecs, "--depth", String(settings.depth), ...settings.fetchExtraFlags);
  } else {
    // A shallow repository from an earlier job with GIT_DEPTH is deepened to the full history.
    w.ifCommand(
      ["test", "-f", ".git/shallow"],
      () => w.command(...fetch, ...refspecs, "--unshallow", ...settings.fetchExtraFlags),
      () => w.command(...fetch, ...refspecs, ...settings.fetchExtraFlags),
    );
  }
}

function writeCheckout(w: ShellWriter, input: GetSourcesInput): void {
  const { settings, git } = input;
  if (!settings.checkout) {
    w.notice("Skipping Git checkout");
    return;
  }
  w.notice(`Checking out ${git.sha.slice(0, 8)} as detached HEAD (ref is ${git.ref})...`);
  w.command("git", "-c", "submodule.recurse=false", "checkout", "-f", "-q", git.sha);
  if (settings.cleanFlags && settings.cleanFlags.length > 0) w.command("git", "clean", ...settings.cleanFlags);
}

function writeSubmodules(w: ShellWriter, input: GetSourcesInput): void {
  const { settings } = input;
  if (settings.submoduleStrategy === "none") {
    w.notice("Skipping Git submodules setup");
    return;
  }
  const recursive = settings.submoduleStrategy === "recursive" ? ["--recursive"] : [];
  const paths = settings.submodulePaths.length > 0 ? ["--", ...settings.submodulePaths] : [];
  const depth = settings.submoduleDepth > 0 ? ["--depth", String(settings.submoduleDepth)] : [];
  w.notice(recursive.length > 0 ? "Updating/initializing submodules recursively..." : "Updating/initializing submodules...");
  w.command("git", "submodule", "init", ...paths);
  w.command("git", "submodule", "sync", ...recursive, ...paths);
  w.command("git", "-c", `http.userAgent=${input.userAgent}`, "submodule", "update", "--init", ...recursive, ...depth,
    ...settings.submoduleUpdateFlags, ...paths);
  if (settings.cleanFlags && settings.cleanFlags.length > 0) {
    w.command("git", "submodule", "foreach", ...recursive, "git", "clean", ...settings.cleanFlags);
  }
}

/** The refspecs GitLab sends when a job does not list any (build_runner_presenter.rb). */
export function defaultRefspecs(git: Pick<GitInfo, "ref" | "ref_type" | "depth">): string[] {
  if (git.depth > 0) {
    return git.ref_type === "tag"
      ? [`+refs/tags/${git.ref}:refs/tags/${git.ref}`]
      : [`+refs/heads/${git.ref}:refs/remotes/origin/${git.ref}`];
  }
  return ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"];
}
