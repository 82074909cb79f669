import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localFiles } from "../../src/executors/local-files.ts";
import { listWorktree, syncWorktree } from "../../src/local/worktree.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";

const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

describe("syncWorktree()", () => {
  const repo = makeRepository(2);
  const sha = repo.shas[1]!;
  writeFileSync(join(repo.work, ".gitignore"), "ignored.log\n");
  writeFileSync(join(repo.work, "ignored.log"), "noise");
  writeFileSync(join(repo.work, "untracked.txt"), "new file");
  writeFileSync(join(repo.work, "file1.txt"), "changed, not committed\n");
  mkdirSync(join(repo.work, ".runner", "builds"), { recursive: true });
  writeFileSync(join(repo.work, ".runner", "builds", "x"), "runner's own");
  symlinkSync("file2.txt", join(repo.work, "link"));
  const dest = join(mkdtempSync(join(tmpdir(), "runner-sync-")), "project");
  const sync = async () => syncWorktree(await listWorktree({ root: repo.work, isRepository: true, isRepositoryRoot: true, env }), { files: localFiles, dir: dest }, { sha, env });

  test("copies tracked and untracked files with uncommitted changes, not ignored ones nor .runner", async () => {
    const summary = await sync();
    expect(readFileSync(join(dest, "file1.txt"), "utf8")).toBe("changed, not committed\n");
    expect(readFileSync(join(dest, "untracked.txt"), "utf8")).toBe("new file");
    expect(readFileSync(join(dest, "link"), "utf8")).toBe("content 2\n");
    expect(existsSync(join(dest, "ignored.log"))).toBe(false);
    expect(existsSync(join(dest, ".runner"))).toBe(false);
    expect(summary.copied).toBe(summary.files);
  });

  test("the copy is a repository at the commit, showing the uncommitted change", async () => {
    await sync();
    expect(git(dest, "rev-parse", "HEAD")).toBe(sha);
    expect(git(dest, "log", "--format=%s")).toBe("commit 2\ncommit 1");
    expect(git(dest, "status", "--porcelain")).toContain("M file1.txt");
    expect(git(repo.work, "status", "--porcelain")).not.toContain("project");
  });

  test("copies nothing the second time, then only what changed, and removes what is gone", async () => {
    await sync();
    expect((await sync()).copied).toBe(0);
    writeFileSync(join(repo.work, "untracked.txt"), "edited");
    utimesSync(join(repo.work, "untracked.txt"), new Date(), new Date(Date.now() + 5000));
    writeFileSync(join(dest, "made-by-job.o"), "build output");
    mkdirSync(join(dest, "out", "deep"), { recursive: true });
    writeFileSync(join(dest, "out", "deep", "x"), "x");
    rmSync(join(repo.work, "link"));
    const summary = await sync();
    expect(summary.copied).toBe(1);
    expect(summary.removed).toBe(3);
    expect(readFileSync(join(dest, "untracked.txt"), "utf8")).toBe("edited");
    expect(existsSync(join(dest, "made-by-job.o"))).toBe(false);
    expect(existsSync(join(dest, "out"))).toBe(false);
    expect(existsSync(join(dest, "link"))).toBe(false);
  });

  test("a subdirectory of a repository is copied on its own, without a .git", async () => {
    mkdirSync(join(repo.work, "sub", "deep"), { recursive: true });
    writeFileSync(join(repo.work, "sub", "deep", "x.txt"), "x");
    writeFileSync(join(repo.work, "sub", "y.txt"), "y");
    const target = join(mkdtempSync(join(tmpdir(), "runner-sub-")), "project");
    const listing = await listWorktree({ root: join(repo.work, "sub"), isRepository: true, isRepositoryRoot: false, env });
    const summary = await syncWorktree(listing, { files: localFiles, dir: target }, { sha, env });
    expect(summary.files).toBe(2);
    expect(readFileSync(join(target, "deep", "x.txt"), "utf8")).toBe("x");
    expect(existsSync(join(target, ".git"))).toBe(false);
  });

  test("a directory that is no repository is copied whole", async () => {
    const plain = mkdtempSync(join(tmpdir(), "runner-plain-"));
    mkdirSync(join(plain, "src"));
    writeFileSync(join(plain, "src", "a.ts"), "a");
    const target = join(plain, ".runner", "builds", "job", "project");
    const listing = await listWorktree({ root: plain, isRepository: false, isRepositoryRoot: false, env });
    const summary = await syncWorktree(listing, { files: localFiles, dir: target }, { sha: "0".repeat(40), env });
    expect(summary.files).toBe(1);
    expect(readFileSync(join(target, "src", "a.ts"), "utf8")).toBe("a");
    expect(existsSync(join(target, ".git"))).toBe(false);
  });
});
