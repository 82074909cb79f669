import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import { BINARY, enqueueCachedJobs, startRunner } from "../helpers/fleet.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { startS3, type TestS3 } from "../helpers/s3-server.ts";

/**
 * A fleet: runners on different machines (here: directories) share one S3 cache
 * (docs.gitlab.com/runner/configuration/autoscale.html#distributed-runners-caching) and take jobs
 * from one GitLab, which hands each job to one of them and answers 409 to a request that lost the race.
 */
let s3: TestS3;
beforeAll(async () => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
  s3 = await startS3();
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

const env = () => ({ PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" });
const s3Flags = () => [
  "--cache-type", "s3", "--cache-shared", "--cache-s3-server-address", s3.endpoint, "--cache-s3-access-key", s3.accessKey,
  "--cache-s3-secret-key", s3.secretKey, "--cache-s3-bucket-name", s3.bucket, "--cache-s3-insecure",
];

async function runSingle(fake: FakeGitLab, dir: string): Promise<void> {
  const child = Bun.spawn([
    BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--max-builds", "1",
    "--builds-dir", join(dir, "builds"), "--cache-dir", join(dir, "cache"), ...s3Flags(),
  ], { env: env(), stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  expect(code, err).toBe(0);
}

describe("a fleet of runners", () => {
  test("a cache saved by runner A through S3 is restored by runner B, and by runner exec on a laptop", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const root = mkdtempSync(join(tmpdir(), "runner-fleet-ab-"));
      const cache = [{ key: "deps-non_protected", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
      const saved = fake.enqueue(["mkdir -p vendor", "echo 'saved by runner A' > vendor/note"], { cache });
      await runSingle(fake, join(root, "a"));
      expect(fake.jobs.get(saved)!.trace.toString()).toContain(`Uploading cache.zip to http://${s3.endpoint}/${s3.bucket}/project/42/deps-non_protected`);
      const restored = fake.enqueue(["cat vendor/note"], { cache });
      await runSingle(fake, join(root, "b"));
      const trace = fake.jobs.get(restored)!.trace.toString();
      expect(fake.jobs.get(restored)!.status, trace).toBe("success");
      expect(trace).toContain("Downloading cache from");
      expect(trace).toMatch(/ 01O saved by runner A\n/);
      expect(trace).not.toMatch(/X-Amz-(Signature|Credential)=/);
      expect(fake.deviations).toEqual([]);

      // The team's local run of the same project (its GitLab id given) finds the fleet's cache.
      const repo = makeRepository(1);
      writeFileSync(join(repo.work, ".gitlab-ci.yml"), "job:\n  cache: { key: deps, paths: [vendor/] }\n  script: [cat vendor/note]\n");
      git(repo.work, "add", ".");
      git(repo.work, "commit", "-q", "-m", "ci");
      const local = Bun.spawnSync([BINARY, "exec", "--no-color", "-v", "CI_PROJECT_ID=42", ...s3Flags()], { cwd: repo.work, env: env() });
      const out = local.stdout.toString();
      expect(local.exitCode, out + local.stderr.toString()).toBe(0);
      expect(out).toContain("saved by runner A");
    } finally {
      await fake.stop();
    }
  }, 120_000);

  test("CACHE_COMPRESSION_FORMAT=tarzstd: the shared object is a tar.zst, and the next run restores it", () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), [
      "variables: { CACHE_COMPRESSION_FORMAT: tarzstd, CACHE_COMPRESSION_LEVEL: fastest }",
      "job:\n  cache: { key: zst, paths: [vendor/] }\n  script:\n    - cat vendor/note || echo none\n    - mkdir -p vendor && echo \"from run $CI_PIPELINE_ID\" > vendor/note",
    ].join("\n"));
    git(repo.work, "add", ".");
    git(repo.work, "commit", "-q", "-m", "ci");
    const run = () => Bun.spawnSync([BINARY, "exec", "--no-color", "-v", "CI_PROJECT_ID=77", ...s3Flags()], { cwd: repo.work, env: env() });
    const first = run();
    expect(first.exitCode, first.stdout.toString()).toBe(0);
    // Another machine: no local copy, so the object itself is fetched and extracted.
    rmSync(join(repo.work, ".runner", "cache"), { recursive: true, force: true });
    const second = run();
    const out = second.stdout.toString();
    expect(second.exitCode, out).toBe(0);
    expect(out).toMatch(/from run \d+\n/);
    const object = readFileSync(join(s3.directory, s3.bucket, "project", "77", "zst-non_protected._S3rver_object"));
    expect([...object.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
  }, 60_000);

  test("three runners, concurrent = 4 each, 60 jobs: each runs exactly once, caches cross runners, 409s lose nothing", async () => {
    const fake = await new FakeGitLab().start();
    fake.conflictEvery = 7;
    try {
      const root = mkdtempSync(join(tmpdir(), "runner-fleet-"));
      // A second in each job: Last-Modified has one-second steps, and a newer object must be newer by one.
      const ids = enqueueCachedJobs(fake, 60, 1);
      const runners = [0, 1, 2].map((i) => startRunner(fake, s3, join(root, `runner-${i}`), 4));
      const deadline = Date.now() + 90_000;
      while (ids.some((id) => !["success", "failed"].includes(fake.jobs.get(id)!.status)) && Date.now() < deadline) await Bun.sleep(100);
      const logs = await Promise.all(runners.map((r) => r.stop()));
      const traces = ids.map((id) => fake.jobs.get(id)!.trace.toString());
      expect(ids.map((id) => fake.jobs.get(id)!.status)).toEqual(ids.map(() => "success"));
      // Exactly once: one run's trace per job (a second run would append a second header).
      expect(traces.filter((t) => t.split("Running with runner").length !== 2)).toEqual([]);
      // Jobs of every runner, and caches that another runner saved.
      const ranIn = traces.map((t) => /in (\S+)\/builds\n/.exec(t)?.[1]);
      expect(new Set(ranIn).size).toBe(3);
      const crossed = traces.filter((t) => {
        const m = /restored from: (\S+)\/builds in (\S+)\/builds\n/.exec(t);
        return m && m[1] !== m[2];
      });
      expect(crossed.length).toBeGreaterThan(0);
      expect(fake.conflicts).toBeGreaterThan(0);
      expect(logs.join("")).not.toContain("Runner is unhealthy");
      expect(fake.deviations).toEqual([]);
      console.log(`fleet: 60 jobs on 3 runners, ${crossed.length} restored another runner's cache, ${fake.conflicts} answered 409`);
    } finally {
      await fake.stop();
    }
  }, 150_000);
});
