import { goDurationMs } from "../../src/protocol/go-duration.ts";
import { stageRetryDelayMs } from "../../src/steps/stage-backoff.ts";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobResponse } from "../../src/protocol/types.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { makeJob, runShellJob, variable } from "../helpers/job.ts";

function gitJob(remote: string, sha: string, extra: { depth?: number; ref?: string; refType?: "branch" | "tag"; vars?: [string, string][] } = {}): JobResponse {
  return makeJob(["git log --format=%s -1", "ls"], {
    allow_git_fetch: true,
    git_info: {
      repo_url: `file://${remote}`, ref: extra.ref ?? "main", sha, before_sha: "0".repeat(40),
      ref_type: extra.refType ?? "branch", refspecs: [], depth: extra.depth ?? 0,
    },
    variables: (extra.vars ?? []).map(([k, v]) => variable(k, v)),
  });
}

describe("get_sources with the system git", () => {
  const repo = makeRepository(3);
  const head = repo.shas[2]!;

  test("clone checks out the job's commit as a detached HEAD with GitLab's lines", async () => {
    const { outcome, trace, projectDir } = await runShellJob(gitJob(repo.bare, repo.shas[1]!, { vars: [["GIT_STRATEGY", "clone"]] }));
    expect(outcome.status).toBe("success");
    // git init's own line, then GitLab Runner's (shells/abstract.go writeRefspecFetchCmd).
    expect(trace).toContain(
      `Getting source from Git repository\nFetching changes...\nInitialized empty Git repository in ${projectDir}/.git/\nCreated fresh repository.\n` +
        `Checking out ${repo.shas[1]!.slice(0, 8)} as detached HEAD (ref is main)...\nSkipping Git submodules setup\n`,
    );
    expect(git(projectDir, "rev-parse", "HEAD")).toBe(repo.shas[1]!);
    expect(trace).toContain("$ git log --format=%s -1\ncommit 2\n");
    expect(existsSync(join(projectDir, "file3.txt"))).toBe(false);
  });

  test("a SHA-256 project (git_info.repo_object_format) is initialised with --object-format sha256 and checked out", async () => {
    const root = mkdtempSync(join(tmpdir(), "runner-sha256-"));
    const bare = join(root, "remote.git");
    const work = join(root, "work");
    git(root, "init", "-q", "--object-format=sha256", "--bare", bare);
    git(root, "init", "-q", "--object-format=sha256", "-b", "main", work);
    writeFileSync(join(work, "hello.txt"), "sha-256 world\n");
    git(work, "add", ".");
    git(work, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "first");
    git(work, "push", "-q", bare, "main");
    const sha = git(work, "rev-parse", "HEAD");
    expect(sha.length).toBe(64);
    const job = gitJob(bare, sha, { vars: [["GIT_STRATEGY", "clone"]] });
    const { outcome, trace, projectDir } = await runShellJob({ ...job, git_info: { ...job.git_info, repo_object_format: "sha256" } });
    expect(outcome.status, trace).toBe("success");
    expect(git(projectDir, "rev-parse", "--show-object-format")).toBe("sha256");
    expect(git(projectDir, "rev-parse", "HEAD")).toBe(sha);
    expect(trace).toContain(`Checking out ${sha.slice(0, 8)} as detached HEAD (ref is main)...`);
  });

  test("GIT_DEPTH makes a shallow fetch", async () => {
    const { trace, projectDir } = await runShellJob(gitJob(repo.bare, head, { depth: 1 }));
    expect(trace).toContain("Fetching changes with git depth set to 1...\n");
    expect(git(projectDir, "rev-list", "--count", "HEAD")).toBe("1");
  });

  test("fetch reuses the repository and git clean removes what the last job left", async () => {
    const first = await runShellJob(gitJob(repo.bare, head, { vars: [["GIT_STRATEGY", "fetch"]] }));
    writeFileSync(join(first.projectDir, "leftover.txt"), "x");
    const second = await runShellJob(gitJob(repo.bare, head, { vars: [["GIT_STRATEGY", "fetch"]] }), { buildsDir: first.buildsDir });
    expect(second.trace).toContain(`Reinitialized existing Git repository in ${second.projectDir}/.git/\n`);
    expect(second.trace).not.toContain("Created fresh repository.");
    expect(existsSync(join(first.projectDir, "leftover.txt"))).toBe(false);
  });

  test("GIT_CLEAN_FLAGS=none keeps untracked files", async () => {
    const vars: [string, string][] = [["GIT_STRATEGY", "fetch"], ["GIT_CLEAN_FLAGS", "none"]];
    const first = await runShellJob(gitJob(repo.bare, head, { vars }));
    writeFileSync(join(first.projectDir, "kept.txt"), "x");
    await runShellJob(gitJob(repo.bare, head, { vars }), { buildsDir: first.buildsDir });
    expect(existsSync(join(first.projectDir, "kept.txt"))).toBe(true);
  });

  test("GIT_CHECKOUT=false fetches without checking out", async () => {
    const { trace, projectDir } = await runShellJob(gitJob(repo.bare, head, { vars: [["GIT_CHECKOUT", "false"]] }));
    expect(trace).toContain("Skipping Git checkout\n");
    expect(existsSync(join(projectDir, "file1.txt"))).toBe(false);
  });

  test("a tag ref is fetched with the tag refspec", async () => {
    const { outcome, trace } = await runShellJob(gitJob(repo.bare, repo.shas[0]!, { ref: "v1.0", refType: "tag", depth: 5 }));
    expect(outcome.status).toBe("success");
    expect(trace).toContain(`Checking out ${repo.shas[0]!.slice(0, 8)} as detached HEAD (ref is v1.0)...`);
  });

  test("GIT_SUBMODULE_STRATEGY=recursive checks out submodules", async () => {
    const sub = makeRepository(1);
    const parent = makeRepository(1);
    git(parent.work, "-c", "protocol.file.allow=always", "submodule", "add", "-q", `file://${sub.bare}`, "vendor/sub");
    git(parent.work, "commit", "-q", "-m", "add submodule");
    const sha = git(parent.work, "rev-parse", "HEAD");
    git(parent.work, "push", "-q", parent.bare, "main");
    const job = gitJob(parent.bare, sha, {
      vars: [
        ["GIT_SUBMODULE_STRATEGY", "recursive"],
        // git ≥ 2.38 refuses file:// submodules unless allowed; a real remote needs no such setting.
        ["GIT_CONFIG_COUNT", "1"], ["GIT_CONFIG_KEY_0", "protocol.file.allow"], ["GIT_CONFIG_VALUE_0", "always"],
      ],
    });
    const { outcome, trace, projectDir } = await runShellJob(job);
    expect(outcome.status).toBe("success");
    expect(trace).toContain("Updating/initializing submodules recursively...\n");
    expect(existsSync(join(projectDir, "vendor/sub/file1.txt"))).toBe(true);
  });

  test("GET_SOURCES_ATTEMPTS retries a failing fetch, clearing the worktree between attempts", async () => {
    const job = gitJob("/nonexistent/repo.git", head, {
      vars: [["GET_SOURCES_ATTEMPTS", "2"], ["FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", "false"]],
    });
    const { outcome, trace } = await runShellJob(job);
    expect(outcome.failure?.failureReason).toBe("script_failure");
    expect(trace.match(/Fetching changes\.\.\./g)?.length).toBe(2);
    expect(trace).toContain("Deleting all tracked and untracked files due to source fetch failure\n");
    expect(trace).not.toContain("Retrying in");
  });

  // common/build.go attemptExecuteStage: with FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY (on by
  // default) a retried stage waits 5 s first, then longer, and says so.
  test("a retried stage waits GitLab Runner's backoff first, 5 s, and says so", async () => {
    const job = gitJob("/nonexistent/repo.git", head, { vars: [["GET_SOURCES_ATTEMPTS", "2"]] });
    const started = performance.now();
    const { trace } = await runShellJob(job);
    expect(performance.now() - started).toBeGreaterThanOrEqual(4900);
    expect(trace).toMatch(/\nRetrying in 5s\nDeleting all tracked and untracked files due to source fetch failure\n/);
  }, 20_000);

  test("later waits are jittered between 5 s and 5 s × 1.5ⁿ⁻¹, never over 5 min", () => {
    expect(stageRetryDelayMs(1, () => 0.99)).toBe(5000);
    expect(stageRetryDelayMs(2, () => 0)).toBe(5000);
    expect(stageRetryDelayMs(2, () => 1)).toBe(7500);
    expect(stageRetryDelayMs(3, () => 1)).toBe(11250);
    expect(stageRetryDelayMs(30, () => 1)).toBe(300_000);
    expect(goDurationMs(11250)).toBe("11.25s");
    expect(goDurationMs(75_500)).toBe("1m15.5s");
  });

  test("a bad GIT_STRATEGY warns and falls back to the default", async () => {
    const { trace, outcome } = await runShellJob(gitJob(repo.bare, head, { vars: [["GIT_STRATEGY", "teleport"]] }));
    expect(outcome.status).toBe("success");
    expect(trace).toContain("WARNING: GIT_STRATEGY: expected either 'clone', 'fetch', 'none' or 'empty' got 'teleport', using 'fetch'\n");
  });
});
