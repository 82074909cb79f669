import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunnerConfig } from "../../src/config/config-schema.ts";
import { processJob } from "../../src/daemon/process-job.ts";
import { abortableSleep, HttpClient } from "../../src/protocol/http-client.ts";
import { requestJob } from "../../src/protocol/jobs-api.ts";
import { runnerInfo } from "../../src/protocol/runner-info.ts";
import { FakeGitLab, type FaultKind } from "../fake-gitlab/fake-gitlab.ts";

/**
 * The runner under the answers GitLab really sends, not only the happy ones, as GitLab Runner takes
 * them (network/gitlab.go createPatchTraceResult and createUpdateJobResult, network/trace.go): on
 * PATCH and PUT, everything but 202/200, 403 or `Job-Status: canceled|failed`, 416 and 404 is a
 * failed attempt, tried again; a 404 on PATCH is tried again during the run and only the final
 * flush gives up on it; the final update is retried up to job_status_final_update_retry_limit.
 * Under each, every trace byte arrives exactly once and the final state is recorded.
 */

const fast = (ms: number, s?: AbortSignal) => abortableSleep(Math.min(ms, 20), s);
const timing = { intervalMs: 20, forceSendIntervalMs: 100, finalBackoffStartMs: 5, sleep: fast };

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await new FakeGitLab({ seed: 7 }).start();
  fake.retryAfterSeconds = 0;
});
afterEach(async () => {
  await fake.stop();
});

function runnerConfig(over: Partial<RunnerConfig> = {}): RunnerConfig {
  return {
    name: "answers", url: fake.url, token: fake.runnerToken, limit: 0, output_limit: 4096, request_concurrency: 1,
    unhealthy_requests_limit: 3, job_status_final_update_retry_limit: 10, executor: "shell", environment: [],
    feature_flags: { FF_TIMESTAMPS: false }, builds_dir: mkdtempSync(join(tmpdir(), "runner-answers-")), ...over,
  } as RunnerConfig;
}

async function runNext(over: Partial<RunnerConfig> = {}) {
  // The HTTP retries of 429 and 5xx wait as GitLab says, shortened here.
  const client = new HttpClient(fake.url, { sleep: fast });
  const result = await requestJob(client, { token: fake.runnerToken, info: runnerInfo({ executor: "shell" }) });
  if (result.kind !== "job") throw new Error(result.kind);
  const processed = await processJob({
    client, runner: runnerConfig(over), job: result.job, concurrentId: 0, hostEnv: { PATH: process.env.PATH! }, timing,
    signals: { abort: new AbortController().signal, deadline: new AbortController().signal },
  });
  return { processed, job: fake.jobs.get(result.job.id)! };
}

const LINES = 300;
const script = [`for i in $(seq 1 ${LINES}); do echo "line $i of the trace"; sleep 0.002; done`];

function expectEveryLineOnce(trace: Buffer): void {
  const text = trace.toString();
  for (let i = 1; i <= LINES; i++) expect(text.split(`line ${i} of the trace\n`).length - 1).toBe(1);
}

describe("trace PATCH and job PUT under GitLab's real answers", () => {
  const cases: [string, FaultKind[], string[]][] = [
    ["400 Bad Request", ["400"], ["patch", "update"]],
    ["409 Conflict", ["409"], ["update"]],
    ["422 Unprocessable Entity", ["422"], ["patch", "update"]],
    ["429 with Retry-After (Rack::Attack)", ["429"], ["patch", "update"]],
    ["500/502/503 and dropped connections", ["5xx", "drop"], ["patch", "update"]],
    ["all of them at once", ["400", "409", "422", "429", "5xx", "drop", "416"], ["patch", "update"]],
  ];
  // (A 404 at random could fall on the final flush, which gives the trace up by design: it is
  // scripted below instead, during the run.)
  for (const [name, kinds, endpoints] of cases) {
    test(`${name} at 25%: every trace byte arrives exactly once and the final state is recorded`, async () => {
      fake.faults = { rate: 0.25, kinds, endpoints };
      fake.enqueue(script);
      const { job, processed } = await runNext();
      expect(job.status, job.trace.toString().slice(-500)).toBe("success");
      expect(processed.kind === "finished" && processed.reported).toBe("done");
      expectEveryLineOnce(job.trace);
      expect(fake.deviations).toEqual([]);
    }, 60_000);
  }

  test("a 404 on the first PATCHes (a proxy) does not stop the trace for good", async () => {
    fake.script("patch", ["404", "404", "404", "404", "404"]);
    fake.enqueue(script);
    const { job } = await runNext();
    expect(job.status).toBe("success");
    expectEveryLineOnce(job.trace);
    expect(fake.requests.filter((r) => r.endpoint === "patch" && r.status === 404).length).toBe(5);
    expect(fake.deviations).toEqual([]);
  }, 60_000);

  test("one 409 on the final PUT is retried: the job does not stay running in GitLab", async () => {
    // The running acknowledgement, then the final update's first attempt.
    fake.script("update", [undefined, "409"]);
    fake.enqueue(["echo done"]);
    const { job } = await runNext();
    expect(job.status).toBe("success");
    expect(job.updates.filter((u) => u.state === "success").length).toBe(1);
    expect(fake.requests.filter((r) => r.endpoint === "update" && r.status === 409).length).toBe(1);
  }, 30_000);

  test("a failed running acknowledgement does not drop the job (commands/multi.go drops it only on abort)", async () => {
    fake.script("update", ["409"]);
    fake.enqueue(["echo ran anyway"]);
    const { job } = await runNext();
    expect(job.status).toBe("success");
    expect(job.trace.toString()).toContain("ran anyway");
  }, 30_000);

  test("the final update gives up after job_status_final_update_retry_limit attempts", async () => {
    fake.enqueue(["echo done"]);
    fake.script("update", [undefined, ...Array<FaultKind>(20).fill("400")]);
    const { job, processed } = await runNext({ job_status_final_update_retry_limit: 3 });
    expect(processed.kind === "finished" && processed.reported).toBe("gave-up");
    expect(job.status).toBe("running");
    expect(fake.requests.filter((r) => r.endpoint === "update" && r.status === 400).length).toBe(3);
  }, 30_000);

  test("403 (job no longer running) and Job-Status: canceled still abort, as in GitLab Runner", async () => {
    const id = fake.enqueue(["echo started", "sleep 30"]);
    const running = runNext();
    while (!fake.jobs.get(id)!.trace.toString().includes("started")) await Bun.sleep(10);
    fake.cancel(id, false);
    const { processed } = await running;
    expect(processed.kind === "finished" && processed.outcome.status).not.toBe("success");
  }, 30_000);
});
