import type { Config, RunnerConfig } from "../config/config-schema.ts";
import { parseGoDuration } from "../protocol/go-duration.ts";
import { abortableSleep, HttpClient } from "../protocol/http-client.ts";
import { requestJob, type JobRequestResult } from "../protocol/jobs-api.ts";
import type { RunnerInfo } from "../protocol/runner-info.ts";
import type { JobResponse } from "../protocol/types.ts";
import { RunnerState } from "./runner-state.ts";
import { runnerInfoFor } from "../runners/executor-registry.ts";
import { shortToken } from "../protocol/token.ts";
import type { ReporterTiming } from "./job-reporter.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import { TraceFileWriter } from "../trace/trace-file-writer.ts";
import { processJob, type DaemonSignals, type ProcessedJob } from "./process-job.ts";
import { rejectJob } from "./reject-job.ts";
import { Slots } from "./slots.ts";

/** How the daemon is told to stop (docs/protocol.md §5.5, GitLab Runner's signals). */
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
 * Asks every `[[runners]]` entry's coordinator for jobs and runs them (docs/protocol.md §3.4,
 * docs/protocol.md §3.5): at most `concurrent` jobs and requests at once, `limit` jobs per runner and
 * `request_concurrency` requests in flight per runner; after a job it asks again at once, after
 * none it waits `check_interval`; too many unhealthy answers in a row pause a runner for
 * `unhealthy_interval`. Resolves when polling has stopped and every job has ended.
 */
export async function runPoller(options: PollerOptions): Promise<{ jobs: number }> {
  return new Poller(options).run();
}

/** One runner's connection, bookkeeping and `info`: what each of its request loops shares. */
interface Lane {
  readonly runner: RunnerConfig;
  readonly state: RunnerState;
  readonly client: HttpClient;
  readonly info: RunnerInfo;
}

class Poller {
  readonly #options: PollerOptions;
  readonly #slots: Slots;
  readonly #running = new Set<Promise<void>>();
  readonly #stopAsking = new AbortController();
  readonly #stop: AbortSignal;
  readonly #checkIntervalMs: number;
  /** Writes the jobs' trace files beside them (trace-file-slots.ts). */
  readonly #traceFiles = new TraceFileWriter();
  #started = 0;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#slots = new Slots(options.config.concurrent);
    this.#stop = AbortSignal.any([options.signals.stopPolling, this.#stopAsking.signal]);
    this.#checkIntervalMs = (options.config.check_interval > 0 ? options.config.check_interval : 3) * 1000;
  }

  async run(): Promise<{ jobs: number }> {
    const loops = this.#options.config.runners.flatMap((runner) => {
      const lane = this.#lane(runner);
      return Array.from({ length: Math.max(1, runner.request_concurrency) }, () => this.#poll(lane));
    });
    await Promise.all(loops);
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    this.#traceFiles.close();
    return { jobs: this.#started };
  }

  #lane(runner: RunnerConfig): Lane {
    const client = new HttpClient(runner.url);
    const metrics = this.#options.metrics;
    if (metrics) client.onResponse = (endpoint, status, ms) => metrics.recordRequest(runner, endpoint, status, ms);
    const state = new RunnerState(runner, this.#options.timing?.unhealthyIntervalMs ?? unhealthyIntervalMs(runner));
    return { runner, state, client, info: runnerInfoFor(runner) };
  }

  /** One request loop of a runner: ask, run what comes, ask again (after `check_interval` when nothing came). */
  async #poll(lane: Lane): Promise<void> {
    const { state } = lane;
    const log = this.#options.log;
    const pause = (ms: number) => abortableSleep(ms, this.#stop);
    const between = this.#checkIntervalMs / this.#options.config.runners.length;
    while (!this.#stop.aborted) {
      if (!state.healthy(log)) {
        await pause(Math.min(state.pausedForMs(), this.#checkIntervalMs));
        continue;
      }
      // A job slot of the runner is reserved before asking, as GitLab Runner's acquireBuild does, so
      // that parallel requests cannot bring more jobs than `limit`.
      if (!state.reserve()) {
        await pause(between);
        continue;
      }
      if (!(await this.#slots.acquire(this.#stop))) {
        state.unreserve();
        break;
      }
      const result = await this.#ask(lane);
      if (result === "stopped") break;
      state.record(result, log);
      if (result.kind === "invalid-job") this.#track(this.#reject(lane, result));
      else if (result.kind === "job") this.#track(this.#start(lane, result.job));
      else {
        this.#free(lane);
        await pause(between);
      }
    }
  }

  /** `POST /jobs/request`; "stopped" when polling stopped meanwhile (the slots are given back). */
  async #ask(lane: Lane): Promise<JobRequestResult | "stopped"> {
    const metrics = this.#options.metrics;
    metrics?.jobRequest(lane.runner, 1);
    try {
      return await requestJob(lane.client, { token: lane.runner.token, info: lane.info, systemId: this.#options.systemId, signal: this.#stop });
    } catch (error) {
      if (this.#stop.aborted) {
        this.#free(lane);
        return "stopped";
      }
      // Whatever went wrong with one request, the runner goes on asking.
      return { kind: "client-error", message: error instanceof Error ? error.message : String(error) };
    } finally {
      metrics?.jobRequest(lane.runner, -1);
    }
  }

  /** A job that cannot be run is failed at GitLab, its problems named. */
  async #reject(lane: Lane, result: Extract<JobRequestResult, { kind: "invalid-job" }>): Promise<void> {
    const { id, token, problems } = result;
    const log = this.#options.log;
    log.error("Job cannot be run: failing it", { job: id, problems: problems.join("; ") });
    try {
      await rejectJob({ client: lane.client, job: { id, token }, info: lane.info, problems, ...(this.#options.timing ? { timing: this.#options.timing } : {}) });
    } catch (error) {
      log.error("Failing the job failed", { job: id, error: String(error) });
    } finally {
      this.#free(lane);
    }
  }

  /** Runs a received job to its end; its slot and concurrent id are given back after. */
  async #start(lane: Lane, job: JobResponse): Promise<void> {
    const options = this.#options;
    const { runner, state } = lane;
    const metrics = options.metrics;
    this.#started++;
    options.onJobStarted?.();
    if (options.maxBuilds !== undefined && this.#started >= options.maxBuilds) this.#stopAsking.abort();
    const concurrentId = state.takeConcurrentId();
    options.log.info("Checking for jobs... received", { job: job.id, runner: shortToken(runner.token), repo_url: redactUrl(job.git_info.repo_url) });
    metrics?.jobStarted(runner, {
      id: job.id,
      ...(job.job_info.time_in_queue_seconds !== undefined ? { queuedSeconds: job.job_info.time_in_queue_seconds } : {}),
      ...(job.job_info.project_jobs_running_on_instance_runners_count !== undefined
        ? { projectJobsRunning: job.job_info.project_jobs_running_on_instance_runners_count } : {}),
    });
    try {
      const processed = await processJob({
        client: lane.client, runner, job, concurrentId, hostEnv: options.hostEnv, traceFiles: this.#traceFiles,
        ...(metrics ? { onStage: (stage: string) => metrics.jobStage(job.id, stage) } : {}),
        signals: { abort: options.signals.abort, deadline: options.signals.deadline },
        ...(options.systemId ? { systemId: options.systemId } : {}), ...(options.timing ? { timing: options.timing } : {}),
      });
      const systemFailure = processed.kind === "finished" && processed.outcome.failure?.system ? { error: processed.outcome.failure.message } : {};
      options.log.info("Job finished", { job: job.id, state: processed.kind === "finished" ? processed.outcome.status : processed.kind, ...systemFailure });
      const failure = processed.kind === "finished" ? processed.outcome.failure?.failureReason : processed.kind === "canceled-at-pickup" ? "job_canceled" : undefined;
      metrics?.jobFinished(job.id, failure);
      options.onJobFinished?.(processed);
    } catch (error) {
      options.log.error("Job failed to run", { job: job.id, error: String(error) });
    } finally {
      state.releaseConcurrentId(concurrentId);
      this.#slots.release();
    }
  }

  /** Gives back the global slot and the runner's reserved one. */
  #free(lane: Lane): void {
    this.#slots.release();
    lane.state.unreserve();
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
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
