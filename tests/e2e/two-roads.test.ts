import { describe, expect, test } from "bun:test";
import { BINARY, useRealParts } from "../helpers/real-parts.ts";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import { BUSYBOX, DEBIAN } from "../helpers/docker.ts";
import { makeRepository, git } from "../helpers/git-fixture.ts";

/**
 * One road below the planner: the same job through `runner exec` and through `runner run-single`
 * against the fake GitLab gives the same trace (ids, times, tokens and the artifact store's own line
 * normalised) and the same artifacts, on every executor.
 */
const parts = useRealParts();
const docker = parts.docker;
const ssh = parts.ssh;

const SCRIPT = [
  'echo "hello from the job: $((6 * 7))"',
  "mkdir -p out && echo artifact-content > out/result.txt && echo second > out/other.txt",
  "printf 'no newline at the end'",
];
const AFTER = ["echo after the script"];

/** A driver that runs each stage script with bash on this machine. */
function customDriver(): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-roads-driver-"));
  writeFileSync(join(dir, "run.sh"), '#!/usr/bin/env bash\nbash "$1" || exit "$BUILD_FAILURE_EXIT_CODE"\n');
  chmodSync(join(dir, "run.sh"), 0o755);
  return join(dir, "run.sh");
}

interface Road {
  readonly name: string;
  readonly available: boolean;
  /** The executor's flags, the same for both commands. */
  readonly flags: () => string[];
  /** `runner exec`'s own flags (where its names differ from run-single's). */
  readonly exec?: () => string[];
  readonly single?: () => string[];
  readonly image?: string;
}

const ROADS: Road[] = [
  { name: "shell", available: true, flags: () => ["--executor", "shell"] },
  {
    name: "docker", available: docker, image: BUSYBOX, flags: () => ["--executor", "docker"],
    exec: () => ["--helper-image", DEBIAN, "--pull-policy", "if-not-present"],
    single: () => ["--docker-helper-image", DEBIAN, "--docker-pull-policy", "if-not-present"],
  },
  {
    name: "ssh", available: ssh,
    flags: () => ["--executor", "ssh", "--ssh-host", "127.0.0.1", "--ssh-port", String(parts.sshd().port), "--ssh-user", "root",
      "--ssh-identity-file", parts.sshd().clientKey, "--ssh-known-hosts-file", parts.sshd().knownHosts],
  },
  { name: "custom", available: true, flags: () => ["--executor", "custom", "--custom-run-exec", customDriver()] },
];

const env = () => ({ PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" });

/** What may differ between the roads: times, the runner's name and token, hosts, the artifact store's line. */
function normalise(trace: string): string {
  return trace
    .replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f]{2}[OE][ +]/gm, "")
    .replace(/section_(start|end):\d+:/g, "section_$1:T:")
    .replace(/^((?:\x1b\[0K)?) {2}on .*$/m, "$1  on RUNNER")
    .replace(/^Running on \S+\.\.\.$/m, "Running on HOST...")
    .replace(/(Uploading artifacts as "archive" to) .*$/m, "$1 STORE")
    .replace(/\r/g, "");
}

function zipContents(file: string): Record<string, string> {
  const out = Bun.spawnSync(["python3", "-c", "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))", file]);
  return JSON.parse(out.stdout.toString());
}

async function throughExec(road: Road): Promise<{ trace: string; artifacts: Record<string, string> }> {
  const repo = makeRepository(1);
  const image = road.image ? `  image: ${road.image}\n` : "";
  writeFileSync(join(repo.work, ".gitlab-ci.yml"), [
    // Timestamps (FF_TIMESTAMPS) are what GitLab's trace store gets; the run record keeps the trace as it was written.
    'variables: { GIT_STRATEGY: none, FF_TIMESTAMPS: "false" }',
    `build:\n${image}  script:\n${SCRIPT.map((l) => `    - ${JSON.stringify(l)}`).join("\n")}`,
    `  after_script:\n${AFTER.map((l) => `    - ${JSON.stringify(l)}`).join("\n")}`,
    "  artifacts:\n    paths: [out/]",
    "",
  ].join("\n"));
  git(repo.work, "add", ".");
  git(repo.work, "commit", "-q", "-m", "ci");
  const run = Bun.spawnSync([BINARY, "exec", "build", "--no-color", ...road.flags(), ...(road.exec?.() ?? [])], { cwd: repo.work, env: env() });
  expect(run.exitCode, run.stdout.toString() + run.stderr.toString()).toBe(0);
  const job = join(repo.work, ".runner", "runs", "latest", "build");
  return { trace: readFileSync(join(job, "trace.log"), "utf8"), artifacts: zipContents(join(job, "artifacts", "artifacts.zip")) };
}

async function throughGitLab(road: Road): Promise<{ trace: string; artifacts: Record<string, string> }> {
  const fake = await new FakeGitLab().start();
  try {
    const id = fake.enqueue(SCRIPT, {
      afterScript: AFTER, ...(road.image ? { image: { name: road.image } } : {}),
      variables: [{ key: "FF_TIMESTAMPS", value: "false", public: true }],
      artifacts: [{ name: "artifacts", paths: ["out/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }],
    });
    const builds = mkdtempSync(join(tmpdir(), "runner-roads-builds-"));
    const child = Bun.spawn([
      BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--max-builds", "1", "--builds-dir", builds,
      ...road.flags(), ...(road.single?.() ?? []),
    ], { env: env(), stdout: "pipe", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code, err).toBe(0);
    const job = fake.jobs.get(id)!;
    expect(job.status, job.trace.toString()).toBe("success");
    const zip = join(builds, "uploaded.zip");
    writeFileSync(zip, job.artifacts.find((a) => a.type === "archive")!.data);
    return { trace: job.trace.toString(), artifacts: zipContents(zip) };
  } finally {
    await fake.stop();
  }
}

describe("two roads, one result: runner exec and runner run-single", () => {
  for (const road of ROADS) {
    (road.available ? test : test.skip)(`${road.name}: the same trace and the same artifacts`, async () => {
      const local = await throughExec(road);
      const remote = await throughGitLab(road);
      expect(normalise(local.trace)).toBe(normalise(remote.trace));
      expect(local.artifacts).toEqual({ "out/": "", "out/other.txt": "second\n", "out/result.txt": "artifact-content\n" });
      expect(remote.artifacts).toEqual(local.artifacts);
    }, 120_000);
  }
});
