import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Config, RunnerConfig } from "../config/config-schema.ts";
import { shortToken } from "../protocol/token.ts";
import { REVISION, VERSION } from "../version.ts";

/** What the metrics know of a running job. */
interface RunningJob {
  readonly runner: RunnerConfig;
  readonly started: number;
  stage: string;
}

const NO_JOB = "idle";

/**
 * Prometheus metrics of the daemon, served on `listen_address`, with the names and labels GitLab
 * Runner exports (commands/builds_helper.go, helpers/prometheus/failures_collector.go and
 * log_hook.go, network/gitlab.go), so that a Grafana board made for GitLab Runner reads them:
 * `gitlab_runner_jobs` (with an `idle` series per runner, as GitLab Runner's), `_jobs_total`,
 * `_failed_jobs_total`, `_job_duration_seconds`, `_job_queue_duration_seconds`, `_concurrent`,
 * `_limit`, `_request_concurrency`, `_api_request_statuses_total`, `_api_request_duration_seconds`,
 * `_errors_total`, `_version_info`, and the process metrics (`process_resident_memory_bytes`…).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #systemId: string;
  readonly #runners: RunnerConfig[] = [];
  readonly #jobs = new Map<number, RunningJob>();
  readonly #requestsInFlight = new Map<string, number>();

  readonly #jobsTotal = new Counter({
    name: "gitlab_runner_jobs_total", help: "Total number of handled jobs",
    labelNames: ["runner", "runner_name", "system_id"], registers: [this.registry],
  });
  readonly #failed = new Counter({
    name: "gitlab_runner_failed_jobs_total", help: "Total number of failed jobs",
    labelNames: ["runner", "runner_name", "failure_reason"], registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: "gitlab_runner_job_duration_seconds", help: "Histogram of job durations",
    labelNames: ["runner", "runner_name", "system_id"], registers: [this.registry],
    buckets: [30, 60, 300, 600, 1800, 3600, 7200, 10800, 18000, 36000],
  });
  readonly #queue = new Histogram({
    name: "gitlab_runner_job_queue_duration_seconds", help: "A histogram representing job queue duration.",
    labelNames: ["runner", "runner_name", "system_id", "project_jobs_running"], registers: [this.registry],
    buckets: [1, 3, 10, 30, 60, 120, 300, 900, 1800, 3600],
  });
  readonly #requests = new Counter({
    name: "gitlab_runner_api_request_statuses_total", help: "The total number of api requests, partitioned by runner, endpoint and status.",
    labelNames: ["runner", "system_id", "endpoint", "status"], registers: [this.registry],
  });
  readonly #requestDurations = new Histogram({
    name: "gitlab_runner_api_request_duration_seconds", help: "Latency histogram of API requests made by GitLab Runner",
    labelNames: ["runner", "system_id", "endpoint", "status"], registers: [this.registry],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
  });
  readonly #errors = new Counter({
    name: "gitlab_runner_errors_total", help: "The number of caught errors.", labelNames: ["level"], registers: [this.registry],
  });

  constructor(options: { config?: Config; systemId?: string } = {}) {
    this.#systemId = options.systemId ?? "";
    this.#runners.push(...(options.config?.runners ?? []));
    const registers = [this.registry];
    const self = this;
    new Gauge({
      name: "gitlab_runner_jobs", help: "The current number of running builds.",
      labelNames: ["runner", "runner_name", "system_id", "state", "stage", "executor_stage"], registers,
      collect() {
        this.reset();
        for (const runner of self.#runners) this.set({ ...self.#labels(runner), state: NO_JOB, stage: NO_JOB, executor_stage: NO_JOB }, 0);
        for (const job of self.#jobs.values()) {
          this.inc({ ...self.#labels(job.runner), state: "running", stage: job.stage, executor_stage: executorStage(job.stage) });
        }
      },
    });
    new Gauge({ name: "gitlab_runner_concurrent", help: "The current value of concurrent setting", registers })
      .set(options.config?.concurrent ?? 1);
    const limit = new Gauge({ name: "gitlab_runner_limit", help: "The current value of limit setting", labelNames: ["runner", "system_id"], registers });
    for (const runner of this.#runners) limit.set({ runner: shortToken(runner.token), system_id: this.#systemId }, runner.limit);
    new Gauge({
      name: "gitlab_runner_request_concurrency", help: "The current number of concurrent requests for a new job",
      labelNames: ["runner", "system_id"], registers,
      collect() {
        this.reset();
        for (const runner of self.#runners) {
          const token = shortToken(runner.token);
          this.set({ runner: token, system_id: self.#systemId }, self.#requestsInFlight.get(token) ?? 0);
        }
      },
    });
    new Gauge({
      name: "gitlab_runner_version_info", help: "A metric with a constant '1' value labeled by different build stats fields.",
      labelNames: ["name", "version", "revision", "os", "architecture"], registers,
    }).set({ name: "gitlab-runner", version: VERSION, revision: REVISION.slice(0, 8), os: process.platform, architecture: process.arch }, 1);
    for (const level of ["panic", "fatal", "error", "warning"]) this.#errors.inc({ level }, 0);
    collectDefaultMetrics({ register: this.registry });
  }

  /** A job was received: it counts, and how long it queued in GitLab is observed. */
  jobStarted(runner: RunnerConfig, job: { id: number; queuedSeconds?: number; projectJobsRunning?: string }): void {
    this.#jobs.set(job.id, { runner, started: performance.now(), stage: "prepare_executor" });
    this.#jobsTotal.inc(this.#labels(runner));
    if (job.queuedSeconds !== undefined) {
      this.#queue.observe({ ...this.#labels(runner), project_jobs_running: job.projectJobsRunning ?? "" }, job.queuedSeconds);
    }
  }

  /** A running job entered one of its stages (`get_sources`, `step_script`…). */
  jobStage(jobId: number, stage: string): void {
    const job = this.#jobs.get(jobId);
    if (job) job.stage = stage;
  }

  /** A job ended; `failureReason` is what was reported to GitLab when it failed. */
  jobFinished(jobId: number, failureReason?: string): void {
    const job = this.#jobs.get(jobId);
    if (!job) return;
    this.#jobs.delete(jobId);
    this.#duration.observe(this.#labels(job.runner), (performance.now() - job.started) / 1000);
    if (failureReason) this.#failed.inc({ runner: shortToken(job.runner.token), runner_name: job.runner.name, failure_reason: failureReason });
  }

  /** A request for a job is in flight (+1) or over (−1). */
  jobRequest(runner: RunnerConfig, delta: 1 | -1): void {
    const token = shortToken(runner.token);
    this.#requestsInFlight.set(token, Math.max(0, (this.#requestsInFlight.get(token) ?? 0) + delta));
  }

  /** Every answer from GitLab, by endpoint and status (0: no answer). */
  recordRequest(runner: RunnerConfig, endpoint: string, status: number, durationMs: number): void {
    const labels = { runner: shortToken(runner.token), system_id: this.#systemId, endpoint, status: String(status) };
    this.#requests.inc(labels);
    this.#requestDurations.observe(labels, durationMs / 1000);
  }

  /** A warning or an error was logged (GitLab Runner's log hook). */
  logged(level: "warning" | "error"): void {
    this.#errors.inc({ level });
  }

  /** Serves `/metrics` on `host:port`; returns a function that stops the server. */
  serve(listenAddress: string): { url: string; stop: () => void } {
    const [host, port] = splitAddress(listenAddress);
    const server = Bun.serve({
      hostname: host, port,
      fetch: async (request) => {
        if (new URL(request.url).pathname !== "/metrics") return new Response("404 page not found\n", { status: 404 });
        return new Response(await this.registry.metrics(), { headers: { "Content-Type": this.registry.contentType } });
      },
    });
    return { url: `http://${host}:${server.port}/metrics`, stop: () => void server.stop(true) };
  }

  #labels(runner: RunnerConfig): { runner: string; runner_name: string; system_id: string } {
    return { runner: shortToken(runner.token), runner_name: runner.name, system_id: this.#systemId };
  }
}

/** GitLab Runner's executor stage of a build stage, roughly: preparing, running, or cleaning up. */
function executorStage(stage: string): string {
  if (stage === "prepare_executor") return "prepare";
  if (stage === "cleanup_file_variables") return "cleanup";
  return "run";
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  const host = colon > 0 ? address.slice(0, colon) : "127.0.0.1";
  return [host === "" ? "0.0.0.0" : host, Number(address.slice(colon + 1)) || 9252];
}
