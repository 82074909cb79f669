import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema, runnerSchema } from "../../src/config/config-schema.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { Metrics } from "../../src/daemon/metrics.ts";
import { runPoller } from "../../src/daemon/poller.ts";
import { abortableSleep } from "../../src/protocol/http-client.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

const hostEnv = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };
const timing = { intervalMs: 20, forceSendIntervalMs: 100, finalBackoffStartMs: 5, sleep: (ms: number, s?: AbortSignal) => abortableSleep(Math.min(ms, 20), s) };
const fakes: FakeGitLab[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

async function fake(options: { runnerToken?: string } = {}): Promise<FakeGitLab> {
  const f = await new FakeGitLab(options).start();
  fakes.push(f);
  return f;
}

function config(runners: { fake: FakeGitLab; token?: string; limit?: number; request_concurrency?: number; unhealthy_requests_limit?: number }[], concurrent = 4) {
  return configSchema.parse({
    concurrent, check_interval: 1,
    runners: runners.map((r, i) => runnerSchema.parse({
      name: `r${i}`, url: r.fake.url, token: r.token ?? r.fake.runnerToken, executor: "shell",
      builds_dir: mkdtempSync(join(tmpdir(), "runner-poll-")), limit: r.limit ?? 0,
      request_concurrency: r.request_concurrency ?? 1, unhealthy_requests_limit: r.unhealthy_requests_limit ?? 3,
    })),
  });
}

function controls() {
  const stopPolling = new AbortController();
  return { stopPolling, signals: { stopPolling: stopPolling.signal, abort: new AbortController().signal, deadline: new AbortController().signal } };
}

const quiet = createLogger({ level: "error", format: "runner", write: () => {} });

describe("runPoller()", () => {
  test("runs queued jobs at once one after the other, then waits; stops when told", async () => {
    const gitlab = await fake();
    const ids = [gitlab.enqueue(["echo one"]), gitlab.enqueue(["echo two"]), gitlab.enqueue(["echo three"])];
    const { stopPolling, signals } = controls();
    const done = runPoller({ config: config([{ fake: gitlab }]), hostEnv, signals, log: quiet, timing });
    await Promise.all(ids.map((id) => gitlab.finished(id)));
    stopPolling.abort();
    const { jobs } = await done;
    expect(jobs).toBe(3);
    expect(ids.map((id) => gitlab.jobs.get(id)!.status)).toEqual(["success", "success", "success"]);
    expect(gitlab.deviations).toEqual([]);
  });

  // The names and labels GitLab Runner exports (commands/builds_helper.go,
  // helpers/prometheus/failures_collector.go, log_hook.go, network/gitlab.go), as its dashboards query them.
  test("exports GitLab Runner's metrics: jobs, failures, durations, concurrency, API requests, errors, version", async () => {
    const gitlab = await fake();
    const ids = [gitlab.enqueue(["echo ok"]), gitlab.enqueue(["exit 3"])];
    const { stopPolling, signals } = controls();
    const cfg = config([{ fake: gitlab }]);
    const metrics = new Metrics({ config: cfg, systemId: "s_0123456789ab" });
    let running = "";
    const slow = gitlab.enqueue(["sleep 0.5"]);
    const done = runPoller({ config: cfg, hostEnv, signals, log: quiet, metrics, timing });
    while (!running.includes('state="running"')) {
      running = await metrics.registry.metrics();
      await Bun.sleep(20);
    }
    await Promise.all([...ids, slow].map((id) => gitlab.finished(id)));
    stopPolling.abort();
    await done;
    metrics.logged("warning");
    const text = await metrics.registry.metrics();
    const runner = 'runner="[^"]+"';
    expect(running).toMatch(/gitlab_runner_jobs\{runner="[^"]+",runner_name="[^"]+",system_id="s_0123456789ab",state="running",stage="[a-z_]+",executor_stage="(prepare|run|cleanup)"\} [1-9]\d*/);
    expect(text).toMatch(/gitlab_runner_jobs\{[^}]*state="idle",stage="idle",executor_stage="idle"\} 0/);
    expect(text).toMatch(new RegExp(`gitlab_runner_jobs_total\\{${runner},runner_name="[^"]+",system_id="s_0123456789ab"\\} 3`));
    expect(text).toMatch(/gitlab_runner_failed_jobs_total\{[^}]*failure_reason="script_failure"\} 1/);
    expect(text).toMatch(/gitlab_runner_job_duration_seconds_count\{[^}]*\} 3/);
    expect(text).toMatch(/gitlab_runner_concurrent \d+/);
    expect(text).toMatch(/gitlab_runner_limit\{[^}]+\} \d+/);
    expect(text).toMatch(/gitlab_runner_request_concurrency\{[^}]+\} 0/);
    expect(text).toMatch(new RegExp(`gitlab_runner_api_request_statuses_total\\{${runner},system_id="s_0123456789ab",endpoint="request_job",status="201"\\} 3`));
    expect(text).toMatch(/gitlab_runner_api_request_duration_seconds_count\{[^}]*endpoint="patch_trace",status="202"\} \d+/);
    expect(text).toContain('gitlab_runner_errors_total{level="warning"} 1');
    expect(text).toContain('gitlab_runner_errors_total{level="error"} 0');
    expect(text).toMatch(/gitlab_runner_version_info\{[^}]*version="[^"]+"[^}]*\} 1/);
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
  });

  test("limit caps one runner's jobs at a time; concurrent caps them all", async () => {
    const gitlab = await fake();
    const ids = Array.from({ length: 4 }, () => gitlab.enqueue(["sleep 0.3"]));
    let running = 0;
    let most = 0;
    const sampler = setInterval(() => {
      running = [...gitlab.jobs.values()].filter((j) => j.status === "running").length;
      most = Math.max(most, running);
    }, 10);
    const { stopPolling, signals } = controls();
    const done = runPoller({ config: config([{ fake: gitlab, limit: 2, request_concurrency: 4 }], 4), hostEnv, signals, log: quiet, timing });
    await Promise.all(ids.map((id) => gitlab.finished(id)));
    clearInterval(sampler);
    stopPolling.abort();
    await done;
    expect(most).toBe(2);
  });

  test("a runner whose token is refused is paused after unhealthy_requests_limit answers in a row", async () => {
    const gitlab = await fake();
    const { stopPolling, signals } = controls();
    const done = runPoller({
      config: config([{ fake: gitlab, token: "glrt-wrong", unhealthy_requests_limit: 2 }]), hostEnv, signals, log: quiet,
      timing: { ...timing, unhealthyIntervalMs: 60_000 },
    });
    await Bun.sleep(2500);
    stopPolling.abort();
    await done;
    expect(gitlab.requests.filter((r) => r.endpoint === "request").length).toBe(2);
  });

  test("an outage (no answer at all) pauses a runner after GitLab Runner's 3 requests, saying for how long and why; then a check is forced (commands/health_helper.go)", async () => {
    const gitlab = await fake();
    const url = gitlab.url;
    await gitlab.stop();
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", write: (line) => void lines.push(line) });
    const { stopPolling, signals } = controls();
    const cfg = config([{ fake: gitlab }]);
    const done = runPoller({ config: { ...cfg, runners: cfg.runners.map((r) => ({ ...r, url })) }, hostEnv, signals, log, timing: { ...timing, unhealthyIntervalMs: 400 } });
    for (let i = 0; i < 400 && !lines.some((l) => l.includes("check for a new job will be forced")); i++) await Bun.sleep(25);
    stopPolling.abort();
    await done;
    const disabled = lines.find((l) => l.includes("is unhealthy and will be disabled for"));
    expect(disabled).toBeDefined();
    expect(JSON.parse(disabled!)).toMatchObject({ unhealthy_requests_limit: 3, unhealthy_interval: "0s" });
    expect(disabled).toContain("unhealthy_interval in [[runners]] of config.toml");
    expect(lines.filter((l) => l.includes("client error")).length).toBeGreaterThanOrEqual(3);
    expect(lines.some((l) => l.includes("check for a new job will be forced"))).toBe(true);
  }, 15_000);

  test("a long poll held by one GitLab stalls neither another runner nor shutdown", async () => {
    const holding = await fake();
    holding.longPollMs = 50_000;
    const busy = await fake({ runnerToken: "glrt-t1_secondRunnerToken" });
    const id = busy.enqueue(["echo from the busy one"]);
    const { stopPolling, signals } = controls();
    const started = performance.now();
    const done = runPoller({ config: config([{ fake: holding }, { fake: busy }]), hostEnv, signals, log: quiet, timing });
    await busy.finished(id);
    expect(performance.now() - started).toBeLessThan(5000);
    const stopAt = performance.now();
    stopPolling.abort();
    await done;
    expect(performance.now() - stopAt).toBeLessThan(1000);
  });
});
