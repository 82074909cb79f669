import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPlainGitConfig } from "../../src/pipeline/git-config.ts";

function setup(repoConfig: string, globalConfig = "") {
  const home = mkdtempSync(join(tmpdir(), "runner-home-"));
  const repo = join(home, "repo");
  mkdirSync(repo);
  Bun.spawnSync(["git", "init", "-q", repo]);
  writeFileSync(join(repo, ".git", "config"), repoConfig);
  writeFileSync(join(home, ".gitconfig"), globalConfig);
  const env = { HOME: home, PATH: process.env.PATH!, GIT_CONFIG_NOSYSTEM: "1" };
  const gitSays = (key: string) =>
    Bun.spawnSync(["git", "config", "--get", key], { cwd: repo, env }).stdout.toString().replace(/\n$/, "");
  return { repo, env, gitSays };
}

describe("readPlainGitConfig()", () => {
  test("reads what git reads: sections, subsections, quotes, escapes, comments, later files winning", () => {
    const { repo, env, gitSays } = setup(
      [
        "[core]",
        "\trepositoryformatversion = 0",
        '[remote "origin"]  # the remote',
        '\turl = "git@gitlab.example.com:acme/widget.git" ; trailing comment',
        "[user]",
        '\tname = "Ada \\"the\\" Lovelace"',
        "\tEmail = ada@example.com",
        "[Branch \"Main\"]",
        "\tremote",
      ].join("\n"),
      "[user]\n\tname = Global Name\n\temail = global@example.com\n",
    );
    const values = readPlainGitConfig(repo, env);
    for (const key of ["remote.origin.url", "user.name", "user.email", "branch.Main.remote"]) {
      expect(values?.get(key)).toBe(gitSays(key));
    }
    expect(values?.get("user.name")).toBe('Ada "the" Lovelace');
  });

  test("leaves includes to git", () => {
    const { repo, env } = setup("[include]\n\tpath = other.config\n");
    expect(readPlainGitConfig(repo, env)).toBeUndefined();
  });

  test("leaves worktrees (a .git file) to git", () => {
    const home = mkdtempSync(join(tmpdir(), "runner-wt-"));
    writeFileSync(join(home, ".git"), "gitdir: /elsewhere\n");
    expect(readPlainGitConfig(home, { HOME: home })).toBeUndefined();
  });
});
