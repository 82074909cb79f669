import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGitFacts } from "../../src/pipeline/git-facts.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";

const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

describe("readGitFacts: the default branch (CI_DEFAULT_BRANCH)", () => {
  test("on a feature branch it is the local main, not the branch checked out", async () => {
    const { work } = makeRepository(1);
    git(work, "checkout", "-q", "-b", "feature/login");
    const facts = await readGitFacts(work, env);
    expect(facts).toMatchObject({ ref: "feature/login", refType: "branch", defaultBranch: "main" });
  });

  test("in a clone it is what origin's HEAD names", async () => {
    const { bare } = makeRepository(1);
    git(bare, "branch", "-q", "-m", "main", "trunk");
    git(bare, "symbolic-ref", "HEAD", "refs/heads/trunk");
    const clone = join(mkdtempSync(join(tmpdir(), "runner-clone-")), "clone");
    git(tmpdir(), "clone", "-q", bare, clone);
    git(clone, "checkout", "-q", "-b", "topic");
    expect(await readGitFacts(clone, env)).toMatchObject({ ref: "topic", defaultBranch: "trunk" });
  });

  test("where the default branch is: origin's when the user has it, else their local branch", async () => {
    const { work, shas } = makeRepository(2);
    git(work, "checkout", "-q", "-b", "feature");
    expect(await readGitFacts(work, env)).toMatchObject({ defaultBranch: "main", defaultBranchCommit: shas[1] });
    git(work, "update-ref", "refs/remotes/origin/main", shas[0]!);
    expect(await readGitFacts(work, env)).toMatchObject({ defaultBranch: "main", defaultBranchCommit: shas[0] });
    // Read from files: packed refs as well as loose ones.
    git(work, "pack-refs", "--all");
    expect(await readGitFacts(work, env)).toMatchObject({ defaultBranch: "main", defaultBranchCommit: shas[0] });
  });
});

describe("readGitFacts: refs read from files where git's files backend keeps them, else from git (git's refs/files-backend.c)", () => {
  /** `env` with a `git` first on PATH that notes its arguments, then runs the real one. */
  function watchedGit(): { env: Record<string, string>; calls: () => string[] } {
    const dir = mkdtempSync(join(tmpdir(), "runner-git-watch-"));
    const log = join(dir, "calls");
    const real = Bun.which("git")!;
    writeFileSync(join(dir, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    return { env: { ...env, PATH: `${dir}:${env.PATH}` }, calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []) };
  }
  const askedForRefs = (calls: string[]) => calls.some((call) => call.startsWith("for-each-ref"));

  test("loose and packed refs are read without git; a loose ref wins over its packed line", async () => {
    const { work, shas } = makeRepository(3);
    git(work, "checkout", "-q", "-b", "feature");
    git(work, "update-ref", "refs/remotes/origin/main", shas[0]!);
    git(work, "pack-refs", "--all");
    const watched = watchedGit();
    expect(await readGitFacts(work, watched.env)).toMatchObject({ defaultBranchCommit: shas[0] });
    // Loose again, and newer than the packed line.
    git(work, "update-ref", "refs/remotes/origin/main", shas[1]!);
    expect(await readGitFacts(work, watched.env)).toMatchObject({ defaultBranchCommit: shas[1] });
    expect(askedForRefs(watched.calls())).toBe(false);
    expect(watched.calls().some((call) => call.startsWith("log"))).toBe(true);
  });

  test("a symbolic ref and a reftable directory are asked of git", async () => {
    const { work, shas } = makeRepository(3);
    git(work, "checkout", "-q", "-b", "feature");
    // origin/main a symbolic ref to the local main: only git resolves it.
    git(work, "symbolic-ref", "refs/remotes/origin/main", "refs/heads/main");
    let watched = watchedGit();
    expect(await readGitFacts(work, watched.env)).toMatchObject({ defaultBranchCommit: shas[2] });
    expect(askedForRefs(watched.calls())).toBe(true);
    // A repository whose refs are in a reftable (git 2.45's --ref-format=reftable) has .git/reftable.
    git(work, "update-ref", "--no-deref", "refs/remotes/origin/main", shas[0]!);
    mkdirSync(join(work, ".git", "reftable"));
    watched = watchedGit();
    expect(await readGitFacts(work, watched.env)).toMatchObject({ defaultBranchCommit: shas[0] });
    expect(askedForRefs(watched.calls())).toBe(true);
  });

  test("a linked worktree (its .git a file naming a directory whose commondir is the repository's) reads the shared refs", async () => {
    const { work, shas } = makeRepository(2);
    git(work, "update-ref", "refs/remotes/origin/main", shas[0]!);
    const linked = join(mkdtempSync(join(tmpdir(), "runner-worktree-")), "linked");
    git(work, "worktree", "add", "-q", "-b", "side", linked);
    const watched = watchedGit();
    expect(await readGitFacts(linked, watched.env)).toMatchObject({ ref: "side", defaultBranch: "main", defaultBranchCommit: shas[0] });
    expect(askedForRefs(watched.calls())).toBe(false);
  });
});

describe("readGitFacts: the repository lookup a caller made already", () => {
  test("is used as given, not walked again: a directory inside a repository, told there is none, gets the defaults", async () => {
    const { work } = makeRepository(1);
    const inside = join(work, "sub");
    mkdirSync(inside);
    expect(await readGitFacts(inside, env)).toMatchObject({ root: work, isRepository: true });
    expect(await readGitFacts(inside, env, { root: undefined })).toMatchObject({ root: inside, isRepository: false, sha: "0".repeat(40) });
    expect(await readGitFacts(inside, env, { root: work })).toMatchObject({ root: work, isRepository: true });
  });
});
