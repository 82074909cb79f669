import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunnerConfig } from "../../src/config/config-schema.ts";
import { processJob } from "../../src/daemon/process-job.ts";
import { abortableSleep, HttpClient } from "../../src/protocol/http-client.ts";
import { requestJob } from "../../src/protocol/jobs-api.ts";
import { runnerInfo } from "../../src/protocol/runner-info.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

const hostEnv = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };
/**
 * The server asks for 3 s between updates and GitLab Runner sends a keep-alive (which is how a cancel
 * during a silent command is noticed) after 30 s; tests keep the logic but wait at most 20/100 ms.
 */
const timing = { intervalMs: 20, forceSendIntervalMs: 100, finalBackoffStartMs: 5, sleep: (ms: number, s?: AbortSignal) => abortableSleep(Math.min(ms, 20), s) };

let fake: FakeGitLab;
beforeEach(async () => {
  fake = await new FakeGitLab().start();
});
afterEach(async () => {
  await fake.stop();
});

function runnerConfig(overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  return {
    name: "test-runner", url: fake.url, token: fake.runnerToken, limit: 0, output_limit: 4096, request_concurrency: 1,
    unhealthy_requests_limit: 3, job_status_final_update_retry_limit: 10, executor: "shell", environment: [],
    feature_flags: {}, builds_dir: mkdtempSync(join(tmpdir(), "runner-daemon-")), ...overrides,
  } as RunnerConfig;
}

/** Takes the next job from the fake and processes it. */
async function pickUpAndRun(options: { runner?: RunnerConfig; beforeRun?: (id: number) => void; abort?: AbortSignal } = {}) {
  const client = new HttpClient(fake.url);
  const result = await requestJob(client, { token: fake.runnerToken, info: runnerInfo({ executor: "shell", shell: "bash" }) });
  if (result.kind !== "job") throw new Error(`expected a job, got ${result.kind}`);
  options.beforeRun?.(result.job.id);
  const processed = await processJob({
    client, runner: options.runner ?? runnerConfig(), job: result.job, concurrentId: 0, hostEnv, timing,
    signals: { abort: options.abort ?? new AbortController().signal, deadline: new AbortController().signal },
  });
  return { processed, job: fake.jobs.get(result.job.id)! };
}

const traceText = (b: Buffer) => b.toString("utf8");
const TIMESTAMPED_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE][ +]/;

describe("a job from the coordinator", () => {
  test("runs, streams its timestamped trace, and reports success with the right checksum", async () => {
    fake.enqueue(["echo hello from the job"]);
    const { processed, job } = await pickUpAndRun();
    expect(processed.kind).toBe("finished");
    expect(job.status).toBe("success");
    expect(job.updates[0]).toMatchObject({ state: "running", output: {} });
    const trace = traceText(job.trace);
    for (const line of trace.split("\n").filter(Boolean)) expect(line).toMatch(TIMESTAMPED_LINE);
    expect(trace).toMatch(/ 01O hello from the job\n/);
    // `+`: the section end marker before it held a `\r`, so this line continues it (docs/protocol.md §9.4).
    expect(trace).toMatch(/ 00O[ +]\x1b\[32;1mJob succeeded\x1b\[0;m\n$/);
    expect(fake.deviations).toEqual([]);
  });

  test("a failing script is reported failed with script_failure and its exit code", async () => {
    fake.enqueue(["exit 7"]);
    const { job } = await pickUpAndRun();
    expect(job).toMatchObject({ status: "failed", failureReason: "script_failure", exitCode: 7 });
    expect(traceText(job.trace)).toContain("ERROR: Job failed: exit status 7");
    expect(fake.deviations).toEqual([]);
  });

  test("FF_TIMESTAMPS=false in the runner's feature flags sends plain lines", async () => {
    fake.enqueue(["echo plain"]);
    const { job } = await pickUpAndRun({ runner: runnerConfig({ feature_flags: { FF_TIMESTAMPS: false } }) });
    expect(traceText(job.trace)).toContain("\nplain\n");
    expect(traceText(job.trace)).not.toMatch(TIMESTAMPED_LINE);
  });

  // common/build_settings.go: CI_DEBUG_TRACE turns on `set -o xtrace` and network/gitlab.go sends
  // `debug_trace=true` on PATCH; `debug_trace_disabled` refuses it with GitLab Runner's warning.
  test("CI_DEBUG_TRACE traces the commands and marks the trace as a debug trace; debug_trace_disabled refuses it", async () => {
    const variables = [{ key: "GIT_STRATEGY", value: "none", public: true }, { key: "CI_DEBUG_TRACE", value: "true", public: true }];
    fake.enqueue(["echo traced-$((40 + 2))"], { variables });
    const on = await pickUpAndRun({ runner: runnerConfig({ feature_flags: { FF_TIMESTAMPS: false } }) });
    expect(on.job.debugTrace).toBe(true);
    expect(traceText(on.job.trace)).toContain("+ echo traced-42\ntraced-42\n");
    fake.enqueue(["echo traced-$((40 + 2))"], { variables });
    const off = await pickUpAndRun({ runner: runnerConfig({ feature_flags: { FF_TIMESTAMPS: false }, debug_trace_disabled: true }) });
    expect(off.job.debugTrace).toBeUndefined();
    expect(traceText(off.job.trace)).toContain("WARNING: CI_DEBUG_TRACE: usage is disabled on this Runner");
    expect(traceText(off.job.trace)).not.toContain("+ echo");
  });

  test("canceling (graceful) stops the script, runs after_script with canceled, and reports it", async () => {
    const id = fake.enqueue(["echo started", "sleep 30"], { afterScript: ['echo "after=$CI_JOB_STATUS"'] });
    const watcher = (async () => {
      while (!traceText(fake.jobs.get(id)!.trace).includes("started")) await Bun.sleep(10);
      fake.cancel(id, true);
    })();
    const started = performance.now();
    const { job } = await pickUpAndRun();
    await watcher;
    expect(performance.now() - started).toBeLessThan(10_000);
    const trace = traceText(job.trace);
    expect(trace).toContain("after=canceled");
    expect(trace).toContain("WARNING: script canceled externally (UI, API)");
    // Said right after the script it stopped, before after_script (common/build.go executeScript).
    expect(trace.indexOf("script canceled externally")).toBeLessThan(trace.indexOf("Running after_script"));
    expect(trace).toContain("ERROR: Job failed: canceled");
    // job_canceled is in no GitLab's failure_reasons, so it is mapped to unknown_failure, as
    // GitLab Runner's failureReasonMapper does (common/failure_reason_mapper.go).
    expect(job).toMatchObject({ status: "failed", failureReason: "unknown_failure" });
    expect(fake.deviations).toEqual([]);
  });

  test("canceled (hard) aborts everything but cleanup; after_script does not run", async () => {
    const id = fake.enqueue(["echo started", "sleep 30"], { afterScript: ["echo after-ran"] });
    const watcher = (async () => {
      while (!traceText(fake.jobs.get(id)!.trace).includes("started")) await Bun.sleep(10);
      fake.cancel(id, false);
    })();
    const { processed, job } = await pickUpAndRun();
    await watcher;
    expect(processed.kind === "finished" && processed.outcome.failure?.interruption).toBe("aborted");
    expect(traceText(job.trace)).not.toContain("after-ran");
    expect(job.status).toBe("canceled");
  });

  test("a job canceled before pickup is acknowledged with a final job_canceled update", async () => {
    fake.enqueue(["echo never"]);
    const { processed, job } = await pickUpAndRun({ beforeRun: (id) => fake.cancel(id, true) });
    expect(processed.kind).toBe("canceled-at-pickup");
    expect(job.updates.at(-1)).toMatchObject({ state: "failed", failure_reason: "job_canceled" });
    expect(traceText(job.trace)).not.toContain("never");
  });

  test("the output limit cuts the trace with GitLab's notice and the job goes on", async () => {
    fake.enqueue(["for i in $(seq 1 2000); do echo line $i; done", "echo after-limit > /dev/null", "true"]);
    const { job } = await pickUpAndRun({ runner: runnerConfig({ output_limit: 4 }) });
    const trace = traceText(job.trace);
    expect(job.status).toBe("success");
    expect(trace).toContain("\x1b[33;1mJob's log exceeded limit of 4096 bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n");
    expect(trace).not.toContain("Job succeeded");
    expect(fake.deviations).toEqual([]);
  });

  test("masked variables and the job token never reach the coordinator", async () => {
    fake.enqueue(['echo "secret=$MY_SECRET token=$CI_JOB_TOKEN"'], {
      variables: [{ key: "MY_SECRET", value: "hunter2-and-more", public: false, masked: true }],
    });
    const { job } = await pickUpAndRun();
    const trace = traceText(job.trace);
    expect(trace).toContain("secret=[MASKED] token=[MASKED]");
    expect(trace).not.toContain("hunter2-and-more");
    expect(trace).not.toContain(job.payload.token);
  });

  test("with record_dir the job leaves a run record of its own", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runner-daemon-record-"));
    const id = fake.enqueue(["echo recorded", "exit 2"]);
    await pickUpAndRun({ runner: runnerConfig({ record_dir: dir }) });
    const summary = JSON.parse(readFileSync(join(dir, `job-${id}`, "job", "summary.json"), "utf8"));
    expect(summary).toMatchObject({ job: `job-${id}`, status: "failed", exit_code: 2, failed_phase: "job.execution" });
    expect(readFileSync(join(dir, `job-${id}`, "job", "trace.log"), "utf8")).toContain("recorded");
  });

  test("a 202 on the final update is retried until GitLab takes it", async () => {
    fake.acceptFinalAfter = 2;
    fake.enqueue(["echo ok"]);
    const { job } = await pickUpAndRun();
    expect(job.status).toBe("success");
    expect(job.updates.filter((u) => u.state === "success").length).toBe(3);
  });

  test("under 20% injected faults every trace byte arrives exactly once and jobs end right", async () => {
    fake.faults = { rate: 0.2, kinds: ["5xx", "drop", "416"] };
    const ids = [
      fake.enqueue(["for i in $(seq 1 400); do echo \"line $i of a long trace\"; sleep 0.002; done"]),
      fake.enqueue(["for i in $(seq 1 200); do echo \"failing job line $i\"; done", "exit 3"]),
    ];
    const first = await pickUpAndRun();
    const second = await pickUpAndRun();
    expect(first.job.status).toBe("success");
    expect(second.job).toMatchObject({ status: "failed", exitCode: 3 });
    const trace = traceText(first.job.trace);
    for (let i = 1; i <= 400; i++) {
      expect(trace.split(`line ${i} of a long trace\n`).length - 1).toBe(1);
    }
    // The final update's checksum and byte size are checked against the stored trace.
    expect(fake.deviations).toEqual([]);
    const faults = fake.requests.filter((r) => [500, 503, 416].includes(r.status)).length;
    expect(faults).toBeGreaterThan(0);
    expect(ids.length).toBe(2);
  }, 30_000);
});
