import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
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
