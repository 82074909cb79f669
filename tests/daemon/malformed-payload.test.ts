import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema, runnerSchema } from "../../src/config/config-schema.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { runPoller } from "../../src/daemon/poller.ts";
import { abortableSleep } from "../../src/protocol/http-client.ts";
import { checkJobPayload } from "../../src/protocol/job-payload.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

/**
 * GitLab hands out payloads the runner must survive. GitLab Runner decodes them into Go structs
 * (common/spec/spec.go): a missing or null key is its zero value, a wrong type fails the decode; a
 * job it has taken but cannot run is failed with the reason in its trace, `runner_system_failure`
 * and exit code 3, before any `running` update (commands/multi.go `requestJob`). One bad job never
 * stops the runner: the job queued after it runs.
 */

const timing = { intervalMs: 20, forceSendIntervalMs: 100, finalBackoffStartMs: 5, sleep: (ms: number, s?: AbortSignal) => abortableSleep(Math.min(ms, 20), s) };
let gitlab: FakeGitLab;
afterEach(async () => {
  await gitlab?.stop();
});

async function runAll(ids: number[], lines: string[] = []) {
  const stopPolling = new AbortController();
  const config = configSchema.parse({
    concurrent: 2, check_interval: 1,
    runners: [runnerSchema.parse({ name: "r", url: gitlab.url, token: gitlab.runnerToken, executor: "shell", builds_dir: mkdtempSync(join(tmpdir(), "runner-bad-")) })],
  });
  const log = createLogger({ level: "info", format: "json", write: (line) => void lines.push(line) });
  const done = runPoller({
    config, hostEnv: { PATH: process.env.PATH! }, log, timing,
    signals: { stopPolling: stopPolling.signal, abort: new AbortController().signal, deadline: new AbortController().signal },
  });
  const finished = await Promise.all(ids.map((id) => gitlab.finished(id)));
  stopPolling.abort();
  await done;
  return finished;
}

describe("payloads GitLab may send (lib/api/entities/ci/job_request/response.rb)", () => {
  test("missing keys take Go's zero values: no git_info, no variables, no features, null image — the job runs and reports", async () => {
    gitlab = await new FakeGitLab().start();
    const none = [{ key: "GIT_STRATEGY", value: "none" }];
    const ids = [
      gitlab.enqueueWire((p) => ({ ...p, git_info: undefined })),
      gitlab.enqueueWire((p) => ({ ...p, variables: none, features: undefined, image: null, services: null, artifacts: null, cache: null })),
      gitlab.enqueueWire((p) => ({ ...p, job_info: null, runner_info: undefined })),
      // No variables at all: the default strategy fetches from a repository that is not there.
      gitlab.enqueueWire((p) => ({ ...p, variables: undefined })),
    ];
    const jobs = await runAll(ids);
    for (const job of jobs.slice(0, 3)) {
      expect(job.status, job.trace.toString()).toBe("success");
      expect(job.trace.toString()).toContain("ran");
    }
    expect(jobs[3]!.status).toBe("failed");
    expect(jobs[3]!.trace.toString()).toContain("Fetching changes...");
  }, 30_000);

  test("a value of the wrong type fails the job, naming the field, with runner_system_failure and exit code 3; the next job runs", async () => {
    gitlab = await new FakeGitLab().start();
    const bad = gitlab.enqueueWire((p) => ({ ...p, variables: [{ key: "COUNT", value: 5, public: true }] }));
    const good = gitlab.enqueue(["echo after"]);
    const lines: string[] = [];
    const [rejected, next] = await runAll([bad, good], lines);
    expect(rejected!.status).toBe("failed");
    expect(rejected!.failureReason).toBe("runner_system_failure");
    expect(rejected!.exitCode).toBe(3);
    expect(rejected!.trace.toString()).toContain("ERROR: The job cannot be run: variables[0].value: Invalid input: expected string, received number");
    // No `running` acknowledgement for a job that is never started, as in GitLab Runner.
    expect(rejected!.updates.map((u) => u.state)).toEqual(["failed"]);
    expect(next!.status).toBe("success");
    expect(lines.some((l) => l.includes("Job cannot be run"))).toBe(true);
    expect(gitlab.deviations).toEqual([]);
  }, 30_000);

  test("run: steps without a script (CI steps) are failed plainly, not dropped (common/spec/spec.go ValidateStepsJobRequest)", async () => {
    gitlab = await new FakeGitLab().start();
    const steps = gitlab.enqueueWire((p) => ({ ...p, steps: undefined, run: JSON.stringify([{ name: "hello", script: "echo hello" }]) }));
    const [job] = await runAll([steps]);
    expect(job!.status).toBe("failed");
    expect(job!.failureReason).toBe("runner_system_failure");
    expect(job!.trace.toString()).toContain("the `run` keyword (CI steps) needs GitLab's step-runner");
  }, 30_000);

  test("executor options GitLab Runner does not know are refused in its words", async () => {
    gitlab = await new FakeGitLab().start();
    const id = gitlab.enqueueWire((p) => ({ ...p, image: { name: "alpine", executor_opts: { docker: { platform: "linux/amd64", memory: "1g" } } } }));
    const [job] = await runAll([id]);
    expect(job!.status).toBe("failed");
    expect(job!.trace.toString()).toContain('Unsupported "image" options [memory] for "docker executor"; supported options are [platform user]');
  }, 30_000);

  test("a payload without id or token cannot be reported: it is logged, and the runner goes on", async () => {
    gitlab = await new FakeGitLab().start();
    gitlab.enqueueWire(() => ({ hello: "world" }));
    const good = gitlab.enqueue(["echo still-here"]);
    const lines: string[] = [];
    const [job] = await runAll([good], lines);
    expect(job!.status).toBe("success");
    expect(lines.some((l) => l.includes("the job has no id or token"))).toBe(true);
  }, 30_000);
});

describe("checkJobPayload()", () => {
  test.each([
    ["no steps key", { id: 1, token: "t" }, "job"],
    ["steps null", { id: 1, token: "t", steps: null }, "job"],
    ["a step script of numbers", { id: 1, token: "t", steps: [{ name: "script", script: [1] }] }, "invalid"],
    ["a string id", { id: "1", token: "t" }, "unreadable"],
    ["an array", [], "unreadable"],
    ["run with a script", { id: 1, token: "t", run: "[{\"name\":\"a\"}]", steps: [{ name: "script", script: ["x"] }] }, "invalid"],
    ["run that is not JSON", { id: 1, token: "t", run: "[{" }, "invalid"],
    ["unknown top-level keys", { id: 1, token: "t", something_new: { a: 1 } }, "job"],
  ])("%s → %s", (_name, payload, kind) => {
    expect(checkJobPayload(payload).kind).toBe(kind as never);
  });
});
