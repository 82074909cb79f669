import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const gitEnv = {
  PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root",
  GIT_AUTHOR_NAME: "Ada", GIT_AUTHOR_EMAIL: "ada@example.com",
  GIT_COMMITTER_NAME: "Ada", GIT_COMMITTER_EMAIL: "ada@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Runs git and returns its trimmed stdout; throws on failure. */
export function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], { cwd, env: gitEnv });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

/** A working repository with `commits` commits on main and a bare clone of it to serve as a remote. */
export function makeRepository(commits = 3): { work: string; bare: string; shas: string[] } {
  const root = mkdtempSync(join(tmpdir(), "runner-git-"));
  const work = join(root, "work");
  const bare = join(root, "remote.git");
  git(root, "init", "-q", "-b", "main", work);
  const shas: string[] = [];
  for (let i = 1; i <= commits; i++) {
    writeFileSync(join(work, `file${i}.txt`), `content ${i}\n`);
    git(work, "add", ".");
    git(work, "commit", "-q", "-m", `commit ${i}\n\nbody of ${i}`);
    shas.push(git(work, "rev-parse", "HEAD"));
  }
  git(work, "tag", "v1.0", shas[0]!);
  git(root, "clone", "-q", "--bare", work, bare);
  return { work, bare, shas };
}
