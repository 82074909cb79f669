import type { RunnerConfig } from "../../src/config/config-schema.ts";
import { processJob } from "../../src/daemon/process-job.ts";
import { abortableSleep, HttpClient } from "../../src/protocol/http-client.ts";
import { requestJob } from "../../src/protocol/jobs-api.ts";
import { runnerInfoFor } from "../../src/runners/executor-registry.ts";
import type { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

/** A runner section as config.toml gives it, with the defaults filled in. */
export function runnerConfig(fake: FakeGitLab, over: Partial<RunnerConfig>): RunnerConfig {
  return {
    name: "test", url: fake.url, token: fake.runnerToken, limit: 0, output_limit: 4096, request_concurrency: 1,
    unhealthy_requests_limit: 3, job_status_final_update_retry_limit: 10, executor: "shell", environment: [],
    feature_flags: { FF_TIMESTAMPS: false }, ...over,
  } as RunnerConfig;
}

/** Takes the next queued job from the fake GitLab, runs it with `runner` to its end, and returns what GitLab saw. */
export async function runNextJob(fake: FakeGitLab, runner: RunnerConfig) {
  const timing = { intervalMs: 20, forceSendIntervalMs: 100, finalBackoffStartMs: 5, sleep: (ms: number, s?: AbortSignal) => abortableSleep(Math.min(ms, 20), s) };
  const client = new HttpClient(fake.url);
  const result = await requestJob(client, { token: fake.runnerToken, info: runnerInfoFor(runner) });
  if (result.kind !== "job") throw new Error(result.kind);
  await processJob({
    client, runner, job: result.job, concurrentId: 0, hostEnv: {}, timing,
    signals: { abort: new AbortController().signal, deadline: new AbortController().signal },
  });
  return fake.jobs.get(result.job.id)!;
}
