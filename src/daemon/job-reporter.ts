import { abortableSleep, type HttpClient } from "../protocol/http-client.ts";
import { patchTrace, updateJob, type JobStatusHeaders, type JobUpdate } from "../protocol/jobs-api.ts";
import type { RunnerInfo } from "../protocol/runner-info.ts";
import type { TraceBuffer } from "../trace/trace-buffer.ts";

const PATCH_LIMIT = 1024 * 1024;
const DEFAULT_INTERVAL_MS = 3000;
const FORCE_SEND_INTERVAL_MS = 30_000;
const FINAL_UPDATE_RETRY_LIMIT = 10;
const FINAL_BACKOFF_MAX_MS = 60 * 60 * 1000;
const FIRST_PATCH_POLL_MS = 10;

/** Timing knobs, all with GitLab Runner's defaults; tests shorten them. */
export interface ReporterTiming {
  readonly intervalMs?: number;
  readonly forceSendIntervalMs?: number;
  readonly finalRetryLimit?: number;
  readonly finalBackoffStartMs?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Reports one job to the coordinator: the `running` update at pickup, the trace as incremental
 * PATCHes every update interval (resuming from the server's offset on 416), keep-alive updates,
 * and the final update, retried as GitLab Runner does (docs/protocol.md §5.6, §6.4). The `Job-Status` of every answer
 * is passed on: `canceling` → `onCancel`, `canceled`/`failed`/403 → `onAbort`.
 */
export class JobReporter {
  readonly #client: HttpClient;
  readonly #job: { id: number; token: string };
  readonly #info: RunnerInfo;
  readonly #buffer: TraceBuffer;
  readonly #onCancel: () => void;
  readonly #onAbort: () => void;
  /** CI_DEBUG_TRACE was on: GitLab keeps such a trace only for those allowed to see it. */
  readonly #debugTrace: boolean;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #timing: Required<Omit<ReporterTiming, "sleep">>;
  readonly #stop = new AbortController();
  #intervalMs: number;
  #sentOffset = 0;
  #lastContact = Date.now();
  #loop: Promise<void> | undefined;
  /** Set when the final flush met a 404: the trace is given up, the final state is still sent. */
  #traceGone = false;

  constructor(options: {
    client: HttpClient;
    job: { id: number; token: string };
    info: RunnerInfo;
    buffer: TraceBuffer;
    onCancel: () => void;
    onAbort: () => void;
    /** `debug_trace=true` on every PATCH (CI_DEBUG_TRACE). */
    debugTrace?: boolean;
    timing?: ReporterTiming;
  }) {
    this.#client = options.client;
    this.#job = options.job;
    this.#info = options.info;
    this.#buffer = options.buffer;
    this.#onCancel = options.onCancel;
    this.#onAbort = options.onAbort;
    this.#debugTrace = options.debugTrace ?? false;
    this.#sleep = options.timing?.sleep ?? abortableSleep;
    this.#timing = {
      intervalMs: options.timing?.intervalMs ?? DEFAULT_INTERVAL_MS,
      forceSendIntervalMs: options.timing?.forceSendIntervalMs ?? FORCE_SEND_INTERVAL_MS,
      finalRetryLimit: options.timing?.finalRetryLimit ?? FINAL_UPDATE_RETRY_LIMIT,
      finalBackoffStartMs: options.timing?.finalBackoffStartMs ?? 1000,
    };
    this.#intervalMs = this.#timing.intervalMs;
  }

  /** The first update, right after pickup: `running`, or whether the job is already canceled. */
  async acknowledge(): Promise<"running" | "drop" | "canceling"> {
    const result = await updateJob(this.#client, this.#job, { info: this.#info, state: "running", output: {} });
    if (result.kind === "abort") return "drop";
    if (result.jobStatus === "canceling") return "canceling";
    this.#contact(result);
    return "running";
  }

  /** Starts sending the trace in the background. */
  startTraceUpdates(): void {
    this.#loop ??= this.#traceLoop();
  }

  /**
   * Stops the background loop, sends what remains of the trace, then the final state. Resolves once
   * GitLab has taken it, has aborted the job, or the retries are spent.
   */
  async finish(update: Omit<JobUpdate, "output">): Promise<"done" | "gave-up"> {
    this.#stop.abort();
    await this.#loop;
    this.#intervalMs = this.#timing.intervalMs;
    let backoff = this.#timing.finalBackoffStartMs;
    for (let attempt = 0; attempt < this.#timing.finalRetryLimit; attempt++) {
      if (attempt > 0) {
        await this.#sleep(backoff);
        backoff = Math.min(FINAL_BACKOFF_MAX_MS, backoff * 2);
      }
      if (await this.#finalAttempt(update)) return "done";
    }
    return "gave-up";
  }

  async #finalAttempt(update: Omit<JobUpdate, "output">): Promise<boolean> {
    for (;;) {
      const flushed = await this.#sendRemainingTrace();
      if (flushed === "failed") return false;
      const result = await updateJob(this.#client, this.#job, {
        info: this.#info, ...update,
        output: { checksum: this.#buffer.checksum, bytesize: this.#buffer.size },
      });
      if (result.kind === "ok" || result.kind === "abort") return true;
      if (result.kind === "failed") return false;
      if (result.kind === "trace-reset") this.#sentOffset = 0;
      this.#adopt(result);
      await this.#sleep(this.#intervalMs);
    }
  }

  /**
   * The final flush (GitLab Runner's ensureAllTraceSent): patches until the trace is all sent. A 416
   * resumes from GitLab's offset; a 404 now gives the trace up (the final state still goes); any
   * other failure ends this attempt, which `finish` retries with its back-off.
   */
  async #sendRemainingTrace(): Promise<"done" | "failed"> {
    while (!this.#traceGone && this.#sentOffset < this.#buffer.size) {
      const result = await this.#patch();
      if (result === "abort") return "done";
      if (result === "not-found") {
        this.#traceGone = true;
        return "done";
      }
      if (result === "retry") {
        await this.#sleep(this.#intervalMs);
        continue;
      }
      if (result === "failed") {
        await this.#sleep(this.#intervalMs);
        return "failed";
      }
    }
    return "done";
  }

  async #traceLoop(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      // Until the first patch has gone out the loop looks often, so the log shows up at once;
      // after that it keeps to the update interval.
      await this.#sleep(this.#sentOffset === 0 ? Math.min(FIRST_PATCH_POLL_MS, this.#intervalMs) : this.#intervalMs, stop);
      if (stop.aborted) break;
      // During the run every failure, a 404 included (a proxy may answer it), is tried again next tick.
      if (this.#sentOffset < this.#buffer.size) await this.#patch();
      if (Date.now() - this.#lastContact >= this.#timing.forceSendIntervalMs) await this.#keepAlive();
    }
  }

  /** One PATCH of up to 1 MiB from the sent offset. */
  async #patch(): Promise<"ok" | "retry" | "abort" | "not-found" | "failed"> {
    // A slice of the trace file: the runtime sends it without copying it through JavaScript.
    const content = this.#buffer.slice(this.#sentOffset, PATCH_LIMIT);
    if (content.size === 0) return "ok";
    const result = await patchTrace(this.#client, this.#job, { offset: this.#sentOffset, content, debugTrace: this.#debugTrace });
    this.#adopt(result);
    this.#buffer.garbage.passed(content.size);
    switch (result.kind) {
      case "ok":
        this.#sentOffset = result.sentOffset;
        this.#contact(result);
        return "ok";
      case "range-mismatch":
        this.#sentOffset = result.sentOffset;
        return "retry";
      case "abort":
        return "abort";
      case "not-found":
        return "not-found";
      case "failed":
        return "failed";
    }
  }

  async #keepAlive(): Promise<void> {
    const result = await updateJob(this.#client, this.#job, {
      info: this.#info, state: "running", output: { checksum: this.#buffer.checksum, bytesize: this.#buffer.size },
    });
    this.#adopt(result);
    if (result.kind === "ok") this.#contact(result);
    else if (result.kind === "abort") this.#onAbort();
  }

  #contact(headers: JobStatusHeaders): void {
    this.#lastContact = Date.now();
    this.#adopt(headers);
  }

  /** Applies `Job-Status` and `X-GitLab-Trace-Update-Interval` of an answer. */
  #adopt(result: JobStatusHeaders & { kind?: string }): void {
    if (result.updateInterval !== undefined) this.#intervalMs = result.updateInterval * 1000;
    if (result.kind === "abort" || result.jobStatus === "canceled" || result.jobStatus === "failed") this.#onAbort();
    else if (result.jobStatus === "canceling") this.#onCancel();
  }
}
