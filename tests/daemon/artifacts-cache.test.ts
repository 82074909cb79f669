import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { RunnerConfig } from "../../src/config/config-schema.ts";
import { processJob } from "../../src/daemon/process-job.ts";
import { abortableSleep, HttpClient } from "../../src/protocol/http-client.ts";
import { requestJob } from "../../src/protocol/jobs-api.ts";
import { runnerInfo } from "../../src/protocol/runner-info.ts";
import type { Artifact } from "../../src/protocol/types.ts";
import { localFiles } from "../../src/executors/local-files.ts";
import { extractZip } from "../../src/steps/archive/zip.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

const hostEnv = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };
const timing = { intervalMs: 20, forceSendIntervalMs: 100, finalBackoffStartMs: 5, sleep: (ms: number, s?: AbortSignal) => abortableSleep(Math.min(ms, 20), s) };

let fake: FakeGitLab;
let runner: RunnerConfig;
beforeEach(async () => {
  fake = await new FakeGitLab().start();
  const root = mkdtempSync(join(tmpdir(), "runner-artifacts-"));
  runner = {
    name: "t", url: fake.url, token: fake.runnerToken, limit: 0, output_limit: 4096, request_concurrency: 1,
    unhealthy_requests_limit: 3, job_status_final_update_retry_limit: 10, executor: "shell", environment: [],
    feature_flags: { FF_TIMESTAMPS: false }, builds_dir: join(root, "builds"), cache_dir: join(root, "cache"),
  } as RunnerConfig;
});
afterEach(async () => {
  await fake.stop();
});

async function runNext() {
  const client = new HttpClient(fake.url);
  const result = await requestJob(client, { token: fake.runnerToken, info: runnerInfo({ executor: "shell" }) });
  if (result.kind !== "job") throw new Error(`expected a job, got ${result.kind}`);
  await processJob({
    client, runner, job: result.job, concurrentId: 0, hostEnv, timing,
    signals: { abort: new AbortController().signal, deadline: new AbortController().signal },
  });
  return fake.jobs.get(result.job.id)!;
}

const archive = (over: Partial<Artifact>): Artifact => ({
  name: "build-output", paths: [], when: "on_success", artifact_type: "archive", artifact_format: "zip", ...over,
});

async function unzip(data: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "runner-unzip-"));
  const file = join(dir, "a.zip");
  writeFileSync(file, data);
  await extractZip(file, localFiles, join(dir, "out"));
  return join(dir, "out");
}

describe("artifacts (docs/protocol.md §7)", () => {
  test("paths and exclude are zipped and uploaded; a later job downloads and extracts them", async () => {
    const builder = fake.enqueue(
      ["mkdir -p out/sub", "echo bin > out/app", "echo tmp > out/app.tmp", "echo deep > out/sub/x", "echo no > other"],
      { artifacts: [archive({ paths: ["out/"], exclude: ["out/*.tmp"], expire_in: "1 week" })] },
    );
    const built = await runNext();
    expect(built.status).toBe("success");
    expect(built.artifacts.map((a) => [a.type, a.format, a.filename, a.expireIn])).toEqual([["archive", "zip", "build-output.zip", "1 week"]]);
    const extracted = await unzip(built.artifacts[0]!.data);
    expect(readFileSync(join(extracted, "out/app"), "utf8")).toBe("bin\n");
    expect(readFileSync(join(extracted, "out/sub/x"), "utf8")).toBe("deep\n");
    expect(existsSync(join(extracted, "out/app.tmp"))).toBe(false);
    expect(existsSync(join(extracted, "other"))).toBe(false);
    expect(built.trace.toString()).toContain("out/: found 4 matching artifact files and directories");

    fake.redirectDownloads = true;
    fake.enqueue(["cat out/app out/sub/x"], {
      dependencies: [{ id: builder, name: "build", token: built.payload.token, artifacts_file: { filename: "artifacts.zip", size: 1 } }],
    });
    const consumer = await runNext();
    expect(consumer.status).toBe("success");
    const trace = consumer.trace.toString();
    expect(trace).toContain(`Downloading artifacts for build (${builder})...`);
    expect(trace).toContain("bin\ndeep\n");
    expect(fake.deviations).toEqual([]);
  });

  test("reports in gzip format, on_failure artifacts after a failure, none of the on_success ones", async () => {
    fake.enqueue(["echo '<testsuite/>' > report.xml", "echo x > kept.txt", "exit 1"], {
      artifacts: [
        archive({ paths: ["kept.txt"], when: "on_success" }),
        archive({ name: "junit.xml", paths: ["report.xml"], when: "always", artifact_type: "junit", artifact_format: "gzip" }),
        archive({ name: "debug", paths: ["kept.txt"], when: "on_failure" }),
      ],
    });
    const job = await runNext();
    expect(job.status).toBe("failed");
    expect(job.artifacts.map((a) => [a.type, a.format, a.filename])).toEqual([["junit", "gzip", "junit.xml.gz"], ["archive", "zip", "debug.zip"]]);
    expect(gunzipSync(job.artifacts[0]!.data).toString()).toBe("<testsuite/>\n");
    expect(job.trace.toString()).toContain("Uploading artifacts for failed job");
  });

  test("an artifact with nothing to upload says so and does not fail the job", async () => {
    fake.enqueue(["true"], { artifacts: [archive({ paths: ["missing/"] })] });
    const job = await runNext();
    expect(job.status).toBe("success");
    expect(job.trace.toString()).toContain("WARNING: missing/: no matching files");
    expect(job.trace.toString()).toContain("ERROR: No files to upload");
  });

  test("an archive whose entries leave the project directory is refused", async () => {
    const evil = join(mkdtempSync(join(tmpdir(), "runner-evil-")), "evil.zip");
    const made = Bun.spawnSync(["python3", "-c", `import zipfile; z = zipfile.ZipFile("${evil}", "w"); z.writestr("../../escaped.txt", "owned"); z.close()`]);
    expect(made.exitCode).toBe(0);
    const producer = fake.enqueue(["true"]);
    await runNext();
    fake.jobs.get(producer)!.artifacts.push({ type: "archive", format: "zip", expireIn: null, filename: "a.zip", data: readFileSync(evil) });
    fake.enqueue(["echo should-not-run"], {
      dependencies: [{ id: producer, name: "evil", token: fake.jobs.get(producer)!.payload.token, artifacts_file: { filename: "a.zip", size: 1 } }],
    });
    const job = await runNext();
    expect(job.status).toBe("failed");
    expect(job.trace.toString()).toContain("the path leaves the extraction directory; the archive is refused");
    expect(job.trace.toString()).not.toContain("should-not-run\n");
    expect(existsSync(join(runner.builds_dir!, "escaped.txt"))).toBe(false);
  });
});

describe("cache (docs/protocol.md §8)", () => {
  const cache = (over: Record<string, unknown> = {}) => ({ key: "deps-$CI_COMMIT_REF_NAME", paths: ["vendor/"], policy: "pull-push", when: "on_success", ...over });

  test("a job saves its cache under <cache_dir>/<project>/<key>/cache.zip and the next job restores it", async () => {
    fake.enqueue(["mkdir -p vendor", "echo lib > vendor/lib"], { cache: [cache()] as never });
    const first = await runNext();
    expect(first.trace.toString()).toContain("Creating cache deps-main...");
    expect(existsSync(join(runner.cache_dir!, "acme/widget/deps-main/cache.zip"))).toBe(true);
    fake.enqueue(["cat vendor/lib"], { cache: [cache({ policy: "pull" })] as never });
    const second = await runNext();
    const trace = second.trace.toString();
    expect(trace).toContain("Checking cache for deps-main...");
    expect(trace).toContain("Successfully extracted cache");
    expect(trace).toContain("\nlib\n");
    expect(trace).toContain("Not uploading cache deps-main due to policy");
  });

  // In GitLab Runner these lines come from the stage's script and its helper, not from the runner
  // process: in a timestamped trace they are stream 01 (the job's), the section headers 00.
  test("cache and artifact lines are the stage's stream (01), the section headers the runner's (00)", async () => {
    runner = { ...runner, feature_flags: {} };
    fake.enqueue(["mkdir -p vendor out", "echo lib > vendor/lib", "echo x > out/x"], {
      cache: [cache()] as never, artifacts: [archive({ paths: ["out/"] })],
    });
    const lines = (await runNext()).trace.toString().split("\n");
    const streamOf = (text: string) => lines.find((l) => l.includes(text))?.split(" ")[1]?.slice(0, 3);
    expect(streamOf("Checking cache for deps-main...")).toBe("01O");
    expect(streamOf("Creating cache deps-main...")).toBe("01O");
    expect(streamOf("Uploading artifacts...")).toBe("01O");
    expect(streamOf("found 2 matching artifact files and directories")).toBe("01O");
    expect(streamOf("Restoring cache")).toBe("00O");
    expect(streamOf("Saving cache for successful job")).toBe("00O");
  });

  test("fallback keys are tried in order; a missing cache only warns", async () => {
    fake.enqueue(["mkdir -p vendor", "echo fallback > vendor/lib"], { cache: [cache({ key: "main-deps" })] as never });
    await runNext();
    fake.enqueue(["cat vendor/lib"], { cache: [cache({ key: "feature-deps", fallback_keys: ["nope", "main-deps"], policy: "pull" })] as never });
    const job = await runNext();
    const trace = job.trace.toString();
    expect(job.status).toBe("success");
    expect(trace).toContain("Checking cache for feature-deps...");
    expect(trace).toContain("Checking cache for nope...");
    expect(trace).toContain("Checking cache for main-deps...");
    expect(trace).toContain("\nfallback\n");
  });

  test("a key is sanitized, and a push-only cache is not restored", async () => {
    fake.enqueue(["mkdir -p vendor && touch vendor/a"], { cache: [cache({ key: "a/../b/./c%2Fd", policy: "push" })] as never });
    const job = await runNext();
    expect(job.trace.toString()).toContain('cache key "a/../b/./c%2Fd" sanitized to "b/c/d"');
    expect(job.trace.toString()).toContain("Not downloading cache a/../b/./c%2Fd due to policy");
    expect(existsSync(join(runner.cache_dir!, "acme/widget/b/c/d/cache.zip"))).toBe(true);
  });
});
