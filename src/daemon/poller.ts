import type { Config, RunnerConfig } from "../config/config-schema.ts";
import { goDuration, parseGoDuration } from "../protocol/go-duration.ts";
import { abortableSleep, HttpClient } from "../protocol/http-client.ts";
import { isUnhealthy, requestJob, type JobRequestResult } from "../protocol/jobs-api.ts";
import { runnerInfoFor } from "../runners/executor-registry.ts";
import { shortToken } from "../protocol/token.ts";
import type { ReporterTiming } from "./job-reporter.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import { processJob, type DaemonSignals, type ProcessedJob } from "./process-job.ts";
import { rejectJob } from "./reject-job.ts";
import { Slots } from "./slots.ts";

/** How the daemon is told to stop (gitlab-protocol.md §5.5, GitLab Runner's signals). */
export interface StopSignals extends DaemonSignals {
  /** Stop asking for jobs (SIGQUIT, SIGTERM, SIGINT, or --max-builds reached). */
  readonly stopPolling: AbortSignal;
}

export interface PollerOptions {
  readonly config: Config;
  readonly systemId?: string;
  readonly hostEnv: Record<string, string>;
  readonly signals: StopSignals;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** run-single: stop asking after this many jobs. */
  readonly maxBuilds?: number;
  /** Called when a job is received. */
  readonly onJobStarted?: () => void;
  /** Called with each job's end. */
  readonly onJobFinished?: (processed: ProcessedJob) => void;
  readonly timing?: ReporterTiming & { readonly unhealthyIntervalMs?: number };
}

const DEFAULT_UNHEALTHY_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Asks every `[[runners]]` entry's coordinator for jobs and runs them (gitlab-protocol.md §3.4,
 * §3.5): at most `concurrent` jobs and requests at once, `limit` jobs per runner and
 * `request_concurrency` requests in flight per runner; after a job it asks again at once, after
 * none it waits `check_interval`; too many unhealthy answers in a row pause a runner for
 * `unhealthy_interval`. Resolves when polling has stopped and every job has ended.
 */
export async function runPoller(options: PollerOptions): Promise<{ jobs: number }> {
  const { config, signals, log } = options;
  const slots = new Slots(config.concurrent);
  const running = new Set<Promise<void>>();
  const stopAsking = new AbortController();
  const stop = AbortSignal.any([signals.stopPolling, stopAsking.signal]);
  let started = 0;
  const checkIntervalMs = (config.check_interval > 0 ? config.check_interval : 3) * 1000;
  const runners = config.runners;
  const loops = runners.flatMap((runner) => {
    const state = new RunnerState(runner, options.timing?.unhealthyIntervalMs ?? unhealthyIntervalMs(runner));
    const client = new HttpClient(runner.url);
    const metrics = options.metrics;
    if (metrics) client.onResponse = (endpoint, status, ms) => metrics.recordRequest(runner, endpoint, status, ms);
    const info = runnerInfoFor(runner);
    const poll = async () => {
      while (!stop.aborted) {
        if (!state.healthy(log)) {
          await abortableSleep(Math.min(state.pausedForMs(), checkIntervalMs), stop);
          continue;
        }
        // A job slot of the runner is reserved before asking, as GitLab Runner's acquireBuild does, so
        // that parallel requests cannot bring more jobs than `limit`.
        if (!state.reserve()) {
          await abortableSleep(checkIntervalMs / runners.length, stop);
          continue;
        }
        if (!(await slots.acquire(stop))) {
          state.unreserve();
          break;
        }
        let result: JobRequestResult;
        metrics?.jobRequest(runner, 1);
        try {
          result = await requestJob(client, { token: runner.token, info, systemId: options.systemId, signal: stop });
        } catch (error) {
          if (stop.aborted) {
            slots.release();
            state.unreserve();
            break;
          }
          // Whatever went wrong with one request, the runner goes on asking.
          result = { kind: "client-error", message: error instanceof Error ? error.message : String(error) };
        } finally {
          metrics?.jobRequest(runner, -1);
        }
        state.record(result, log);
        if (result.kind === "invalid-job") {
          const { id, token, problems } = result;
          log.error("Job cannot be run: failing it", { job: id, problems: problems.join("; ") });
          const rejected: Promise<void> = rejectJob({ client, job: { id, token }, info, problems, ...(options.timing ? { timing: options.timing } : {}) })
            .then(() => undefined, (error) => log.error("Failing the job failed", { job: id, error: String(error) }))
            .finally(() => {
              slots.release();
              state.unreserve();
              running.delete(rejected);
            });
          running.add(rejected);
          continue;
        }
        if (result.kind !== "job") {
          slots.release();
          state.unreserve();
          await abortableSleep(checkIntervalMs / runners.length, stop);
          continue;
        }
        started++;
        options.onJobStarted?.();
        if (options.maxBuilds !== undefined && started >= options.maxBuilds) stopAsking.abort();
        const concurrentId = state.takeConcurrentId();
        log.info("Checking for jobs... received", { job: result.job.id, runner: shortToken(runner.token), repo_url: redactUrl(result.job.git_info.repo_url) });
        const received = result.job;
        metrics?.jobStarted(runner, {
          id: received.id,
          ...(received.job_info.time_in_queue_seconds !== undefined ? { queuedSeconds: received.job_info.time_in_queue_seconds } : {}),
          ...(received.job_info.project_jobs_running_on_instance_runners_count !== undefined
            ? { projectJobsRunning: received.job_info.project_jobs_running_on_instance_runners_count } : {}),
        });
        const job = processJob({
          client, runner, job: result.job, concurrentId, hostEnv: options.hostEnv,
          ...(metrics ? { onStage: (stage: string) => metrics.jobStage(received.id, stage) } : {}),
          signals: { abort: signals.abort, deadline: signals.deadline },
          ...(options.systemId ? { systemId: options.systemId } : {}), ...(options.timing ? { timing: options.timing } : {}),
        })
          .then((processed) => {
            const state_ = processed.kind === "finished" ? processed.outcome.status : processed.kind;
            log.info("Job finished", { job: result.job.id, state: state_ });
            const failure = processed.kind === "finished" ? processed.outcome.failure?.failureReason : processed.kind === "canceled-at-pickup" ? "job_canceled" : undefined;
            metrics?.jobFinished(received.id, failure);
            options.onJobFinished?.(processed);
          })
          .catch((error) => log.error("Job failed to run", { job: result.job.id, error: String(error) }))
          .finally(() => {
            state.releaseConcurrentId(concurrentId);
            slots.release();
            running.delete(job);
          });
        running.add(job);
      }
    };
    return Array.from({ length: Math.max(1, runner.request_concurrency) }, poll);
  });
  await Promise.all(loops);
  while (running.size > 0) await Promise.all([...running]);
  return { jobs: started };
}

/** Per-runner bookkeeping: running jobs, their concurrent ids, and health (§3.4). */
class RunnerState {
  jobs = 0;
  #ids = new Set<number>();
  #unhealthyInARow = 0;
  #pausedUntil = 0;

  constructor(
    readonly runner: RunnerConfig,
    readonly unhealthyIntervalMs: number,
  ) {}

  healthy(log?: Logger): boolean {
    if (this.#pausedUntil === 0) return true;
    if (Date.now() < this.#pausedUntil) return false;
    this.#pausedUntil = 0;
    log?.warn("Runner is not healthy, but check for a new job will be forced!", { runner: shortToken(this.runner.token) });
    return true;
  }

  pausedForMs(): number {
    return Math.max(0, this.#pausedUntil - Date.now());
  }

  record(result: JobRequestResult, log: Logger): void {
    if (result.kind === "failed") log.warn("Checking for jobs... failed", { status: result.status, message: result.message });
    if (result.kind === "forbidden") log.error("Checking for jobs... forbidden", { runner: shortToken(this.runner.token) });
    if (result.kind === "client-error") log.error("Checking for jobs... client error", { message: result.message });
    if (result.kind === "unavailable") log.warn("Checking for jobs... GitLab instance currently unavailable");
    if (!isUnhealthy(result)) {
      this.#unhealthyInARow = 0;
      return;
    }
    this.#unhealthyInARow++;
    const limit = Math.max(1, this.runner.unhealthy_requests_limit);
    if (this.#unhealthyInARow >= limit) {
      this.#pausedUntil = Date.now() + this.unhealthyIntervalMs;
      this.#unhealthyInARow = 0;
      // GitLab Runner's defaults (common/consts.go): 3 requests and 60 minutes. Said in full, since an
      // outage of a few seconds pauses the runner that long.
      log.error(`Runner is unhealthy and will be disabled for ${goDuration(this.unhealthyIntervalMs / 1000)}`, {
        runner: shortToken(this.runner.token), unhealthy_requests: limit, unhealthy_requests_limit: limit,
        unhealthy_interval: goDuration(this.unhealthyIntervalMs / 1000),
        hint: "unhealthy_requests_limit and unhealthy_interval in [[runners]] of config.toml change this",
      });
    }
  }

  /** Reserves a job slot within `limit` (0: no limit); false when the runner is full. */
  reserve(): boolean {
    if (this.runner.limit > 0 && this.jobs >= this.runner.limit) return false;
    this.jobs++;
    return true;
  }

  unreserve(): void {
    this.jobs--;
  }

  /** The smallest free `CI_CONCURRENT_ID` for a job that holds a reserved slot. */
  takeConcurrentId(): number {
    let id = 0;
    while (this.#ids.has(id)) id++;
    this.#ids.add(id);
    return id;
  }

  /** Frees the job's id and its reserved slot. */
  releaseConcurrentId(id: number): void {
    this.#ids.delete(id);
    this.jobs--;
  }
}

/** `unhealthy_interval`: a Go duration (`30m`, `1h30m`), or seconds; GitLab Runner's 60 minutes otherwise. */
function unhealthyIntervalMs(runner: RunnerConfig): number {
  const raw = runner.unhealthy_interval;
  if (typeof raw === "number" && raw > 0) return raw * 1000;
  const seconds = typeof raw === "string" ? parseGoDuration(raw) : undefined;
  return seconds !== undefined && seconds > 0 ? seconds * 1000 : DEFAULT_UNHEALTHY_INTERVAL_MS;
}

/** A repository URL without the job token in it, for the runner's log. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//[MASKED]@");
}
