import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DockerApi } from "../../src/executors/docker/docker-api.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { BUSYBOX, ENGINE_SETTINGS, dockerAvailable, startDocker } from "../helpers/docker.ts";
import { startTlsEngine, type TlsEngine } from "../helpers/docker-tls.ts";
import { runNextJob, runnerConfig } from "../helpers/next-job.ts";

/**
 * The Docker executor wherever GitLab Runner's works (docs.gitlab.com/runner/executors/docker.html,
 * "Use a remote Docker host"): an engine over tcp with mutual TLS (DOCKER_HOST, DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH, or [runners.docker] host and tls_cert_path), and a runner that cannot see the
 * engine's data directory (hidden by a tmpfs in a mount namespace of its own), as on a remote host,
 * in a VM, rootless, or in a container with only the socket. Every file goes through the Engine API.
 */
const BINARY = resolve(import.meta.dir, "../../dist/runner");
const available = dockerAvailable();
let engine: TlsEngine | undefined;
let dataRoot = "/var/lib/docker";
beforeAll(async () => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
  if (!available) return;
  await startDocker();
  dataRoot = (await new DockerApi().request<{ DockerRootDir: string }>("GET", "/info")).DockerRootDir;
  engine = await startTlsEngine();
}, 300_000);
afterAll(async () => {
  await engine?.stop();
});

/** The command, in a mount namespace where the engine's data directory is an empty tmpfs. */
function hidden(command: string[]): string[] {
  return ["unshare", "-m", "sh", "-c", `mount -t tmpfs none ${dataRoot} && [ -z "$(ls -A ${dataRoot})" ] && exec "$@"`, "sh", ...command];
}

function tlsEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root",
    DOCKER_HOST: engine!.host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: engine!.certPath,
    ...(process.env.RUNNER_TEST_ULIMITS ? { RUNNER_TEST_ULIMITS: "1" } : {}),
  };
}

/** The TLS front runs in this process: a child is awaited, never waited for synchronously. */
async function spawn(cmd: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  const child = Bun.spawn(cmd, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, out: out + err };
}

const PIPELINE = `
build:
  stage: build
  image: ${BUSYBOX}
  script:
    - cat wip.txt
    - mkdir -p out && echo "built from the sources" > out/app
  artifacts: { paths: [out/] }
test:
  stage: test
  image: ${BUSYBOX}
  cache: { key: deps, paths: [vendor/] }
  script:
    - cat out/app
    - cat vendor/note || echo "no cache yet"
    - mkdir -p vendor && echo "cached by pipeline $CI_PIPELINE_ID" > vendor/note
`;

(available ? describe : describe.skip)("the Docker executor without the engine's data directory", () => {
  test("runner exec over tcp with TLS: sources in, artifacts between jobs, a cache round-trip", async () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), PIPELINE);
    git(repo.work, "add", ".gitlab-ci.yml");
    git(repo.work, "commit", "-q", "-m", "ci");
    writeFileSync(join(repo.work, "wip.txt"), "uncommitted work\n");
    const run = () => spawn(hidden([BINARY, "exec", "--executor", "docker", "--no-color"]), repo.work, tlsEnv());
    const before = engine!.counts.accepted;
    const first = await run();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/build +\| uncommitted work\n/);
    expect(first.out).toMatch(/test +\| built from the sources\n/);
    expect(first.out).toMatch(/test +\| no cache yet\n/);
    expect(engine!.counts.accepted).toBeGreaterThan(before);
    const second = await run();
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/test +\| cached by pipeline \d+\n/);
  }, 180_000);

  test("no client certificate, no engine: the job fails and says where it could not reach", async () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), `job:\n  image: ${BUSYBOX}\n  script: [echo hi]\n`);
    const env = { ...tlsEnv(), DOCKER_CERT_PATH: mkdtempSync(join(tmpdir(), "runner-no-certs-")) };
    const { code, out } = await spawn([BINARY, "exec", "--executor", "docker", "--no-color"], repo.work, env);
    expect(code, out).not.toBe(0);
    expect(out).toContain("ca.pem");
    expect(out).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  }, 60_000);

  test("run-single over tcp with TLS takes a coordinator's job with artifacts and a cache", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const cache = [{ key: "deps", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
      const id = fake.enqueue(["mkdir -p out vendor", "echo built > out/app", "echo lib > vendor/lib"], {
        image: { name: BUSYBOX }, cache,
        artifacts: [{ name: "out", paths: ["out/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }],
      });
      const builds = mkdtempSync(join(tmpdir(), "runner-anywhere-"));
      const child = Bun.spawn(hidden([
        BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--executor", "docker", "--max-builds", "1",
        "--docker-pull-policy", "if-not-present", "--builds-dir", builds,
      ]), { env: tlsEnv(), stdout: "pipe", stderr: "pipe", cwd: builds });
      const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect(code, err).toBe(0);
      const job = fake.jobs.get(id)!;
      expect(job.status, job.trace.toString()).toBe("success");
      expect(job.artifacts.find((a) => a.type === "archive")?.data.length).toBeGreaterThan(0);
      expect(job.trace.toString()).toContain("Created cache");
      expect(fake.deviations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 120_000);

  test("[runners.docker] host and tls_cert_path name the engine (GitLab Runner's docker credentials)", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const root = mkdtempSync(join(tmpdir(), "runner-anywhere-config-"));
      const runner = runnerConfig(fake, {
        name: "docker", executor: "docker", cache_dir: join(root, "cache"),
        docker: {
          host: engine!.host, tls_cert_path: engine!.certPath, tls_verify: true, image: BUSYBOX, pull_policy: "if-not-present",
          ...(ENGINE_SETTINGS.ulimits ? { ulimit: ENGINE_SETTINGS.ulimits } : {}),
        },
      } as never);
      const before = engine!.counts.accepted;
      fake.enqueue(["echo through the TLS engine"]);
      const job = await runNextJob(fake, runner);
      expect(job.status, job.trace.toString()).toBe("success");
      expect(job.trace.toString()).toContain("through the TLS engine");
      expect(engine!.counts.accepted).toBeGreaterThan(before);
    } finally {
      await fake.stop();
    }
  }, 120_000);
});
