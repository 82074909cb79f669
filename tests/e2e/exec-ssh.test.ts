import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { sshdAvailable, startSshd, type TestSshd } from "../helpers/sshd.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
const available = sshdAvailable();
let sshd: TestSshd;
beforeAll(async () => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
  if (available) sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

(available ? describe : describe.skip)("dist/runner exec --executor ssh", () => {
  test("runs the job on the remote host with the working tree copied over SFTP, again without copying", async () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), 'remote:\n  script:\n    - cat wip.txt\n    - echo "on $CI_PROJECT_DIR"\n');
    git(repo.work, "add", ".gitlab-ci.yml");
    git(repo.work, "commit", "-q", "-m", "ci");
    writeFileSync(join(repo.work, "wip.txt"), "uncommitted work\n");
    const args = [
      "exec", "--executor", "ssh", "--ssh-host", "127.0.0.1", "--ssh-port", String(sshd.port), "--ssh-user", "root",
      "--ssh-identity-file", sshd.clientKey, "--ssh-known-hosts-file", sshd.knownHosts,
    ];
    const run = async () => {
      const child = Bun.spawn([BINARY, ...args], { cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" }, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      return { out, err, code };
    };
    const first = await run();
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toContain('Preparing the "ssh" executor');
    expect(first.out).toContain("uncommitted work\n");
    expect(first.out).toMatch(/on \/.*\/builds\/runner-exec\/remote\/work\n/);
    expect(first.out).toMatch(/3 files, 3 copied, 0 removed/);
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/3 files, 0 copied, 0 removed/);
  }, 30_000);

  test("without --ssh-host it is bad input", async () => {
    const child = Bun.spawnSync([BINARY, "exec", "--executor", "ssh"], { cwd: "/tmp" });
    expect(child.exitCode).toBe(2);
    expect(child.stderr.toString()).toContain("--executor ssh needs --ssh-host");
  });
});
