import { join } from "node:path";
import type { RunnerConfig } from "../config/config-schema.ts";
import { downloadArtifact, uploadArtifact } from "../protocol/artifacts-api.ts";
import { mapFailureReason } from "../protocol/failure-reason.ts";
import type { HttpClient } from "../protocol/http-client.ts";
import { projectPath, shortToken } from "../protocol/token.ts";
import type { JobResponse } from "../protocol/types.ts";
import { runnerInfoFor } from "../runners/executor-registry.ts";
import { jobRunOptions, runnerEnvironment, type JobRoad } from "../runners/job-setup.ts";
import type { ArtifactTransfer } from "../steps/artifact-transfer.ts";
import { abortReason, cancelReason, InterruptedError } from "../protocol/job-failure.ts";
import { runJob, unstoredTraceFailure, type JobOutcome } from "../steps/run-job.ts";
import { resolveFeatureFlags } from "../job/feature-flags.ts";
import { debugTrace } from "../job/debug-trace.ts";
import type { TraceSink, TraceStream } from "../trace/job-trace.ts";
import { Timestamper } from "../trace/timestamper.ts";
import { TraceBuffer } from "../trace/trace-buffer.ts";
import type { TraceFileWriter } from "../trace/trace-file-writer.ts";
import { RunRecord } from "../record/run-record.ts";
import { JobReporter, type ReporterTiming } from "./job-reporter.ts";

/** How the daemon can stop a running job. */
export interface DaemonSignals {
  /** Abort every job (SIGTERM/SIGINT): everything but cleanup stops, final updates are still sent. */
  readonly abort: AbortSignal;
  /** The shutdown deadline: even cleanup stops. */
  readonly deadline: AbortSignal;
}

/** How a coordinator job ended, as far as the runner knows. */
export type ProcessedJob =
  | { readonly kind: "dropped" }
  | { readonly kind: "canceled-at-pickup" }
  | { readonly kind: "finished"; readonly outcome: JobOutcome; readonly reported: "done" | "gave-up" };

/**
 * Runs one job handed out by `POST /jobs/request`, from the `running` update to the final one
 * (docs/protocol.md §3.5, §5, §6): the trace goes through the masker and the timestamper into a
 * size-limited buffer that the reporter PATCHes up, and `Job-Status` answers cancel or abort it.
 */
export async function processJob(options: ProcessJobOptions): Promise<ProcessedJob> {
  const { client, runner, job } = options;
  const environment = runnerEnvironment(runner);
  const buffer = new TraceBuffer({ limit: runner.output_limit * 1024, ...(options.traceFiles ? { writer: options.traceFiles } : {}) });
  const cancel = new AbortController();
  const abort = new AbortController();
  const grace = new AbortController();
  const debug = debugTrace([...environment, ...job.variables], runner.debug_trace_disabled ?? false);
  const reporter = new JobReporter({
    client, job, info: runnerInfoFor(runner), buffer, debugTrace: debug.on,
    timing: { finalRetryLimit: runner.job_status_final_update_retry_limit > 0 ? runner.job_status_final_update_retry_limit : 10, ...options.timing },
    onCancel: () => cancel.abort(cancelReason("script canceled externally (UI, API)")),
    onAbort: () => abort.abort(abortReason()),
  });
  try {
    const ack = await reporter.acknowledge();
    if (ack === "drop") return { kind: "dropped" };
    if (ack === "canceling") {
      await reporter.finish({ state: "failed", failure_reason: "job_canceled" });
      return { kind: "canceled-at-pickup" };
    }
    const stopWith = followDaemonSignals(options.signals, abort, grace);
    reporter.startTraceUpdates();
    const flags = resolveFeatureFlags(runner.feature_flags, [...environment, ...job.variables]);
    const run = await runRecorded(options, traceSink(buffer, flags.on("FF_TIMESTAMPS")), {
      sources: { kind: "git" }, artifacts: coordinatorArtifacts(client, job, flags.on("FF_USE_DIRECT_DOWNLOAD")),
      signals: { cancel: cancel.signal, abort: abort.signal, grace: grace.signal },
      ...(options.onStage ? { onSection: options.onStage } : {}), ...(options.systemId ? { systemId: options.systemId } : {}),
    }).finally(stopWith).then((outcome) => unstoredTraceFailure(outcome, buffer.failure));
    const failure = run.failure;
    const reported = await reporter.finish(
      failure === undefined
        ? { state: "success" }
        : {
            state: "failed",
            failure_reason: mapFailureReason(failure.failureReason, job.features.failure_reasons),
            ...(failure.exitCode ? { exit_code: failure.exitCode } : {}),
          },
    );
    return { kind: "finished", outcome: run, reported };
  } finally {
    buffer.close();
  }
}

export interface ProcessJobOptions {
  readonly client: HttpClient;
  readonly runner: RunnerConfig;
  readonly job: JobResponse;
  readonly concurrentId: number;
  readonly systemId?: string;
  readonly signals: DaemonSignals;
  readonly hostEnv: Record<string, string>;
  readonly timing?: ReporterTiming;
  /** Told of each stage the job enters (for `gitlab_runner_jobs{stage}`). */
  readonly onStage?: (stage: string) => void;
  /** Writes the trace's file on a thread of its own; without it, the job's thread writes it. */
  readonly traceFiles?: TraceFileWriter;
}

/** The daemon's abort (with its own reason, GitLab Runner's `aborted: terminated`) and deadline reach the job; the returned function lets go. */
function followDaemonSignals(signals: DaemonSignals, abort: AbortController, grace: AbortController): () => void {
  const onDaemonAbort = () => abort.abort(signals.abort.reason instanceof InterruptedError ? signals.abort.reason : abortReason());
  const onDeadline = () => grace.abort(abortReason());
  signals.abort.addEventListener("abort", onDaemonAbort, { once: true });
  signals.deadline.addEventListener("abort", onDeadline, { once: true });
  if (signals.abort.aborted) onDaemonAbort();
  return () => {
    signals.abort.removeEventListener("abort", onDaemonAbort);
    signals.deadline.removeEventListener("abort", onDeadline);
  };
}

/** Runs the job down the one road; with `record_dir`, it also leaves a run record of its own (`job-<id>`). */
async function runRecorded(options: ProcessJobOptions, stored: TraceSink & { end(): void }, road: Omit<JobRoad, "sink">): Promise<JobOutcome> {
  const { runner, job } = options;
  const record = runner.record_dir ? new RunRecord(runner.record_dir, { runId: `job-${job.id}` }) : undefined;
  const files = record?.job({
    name: job.job_info.name, slug: "job", stage: job.job_info.stage, allowFailure: job.steps.some((s) => s.name === "script" && s.allow_failure),
    commands: job.steps.find((s) => s.name === "script")?.script.filter((c) => c.trim() !== "") ?? [],
    maskedPhrases: job.variables.filter((v) => v.masked).map((v) => v.value),
  });
  const sink = files ? { write: (b: Uint8Array, s: TraceStream) => (files.traceSink.write(b, s), stored.write(b, s)) } : stored;
  const place = { relative: join(shortToken(runner.token), String(options.concurrentId), projectPath(job.git_info.repo_url, job.job_info.project_id)), slot: String(options.concurrentId), concurrentId: options.concurrentId };
  let outcome: JobOutcome;
  try {
    outcome = await runJob(await jobRunOptions(runner, job, place, options.hostEnv, { ...road, sink, ...(files ? { recorder: files.recorder } : {}) }));
  } finally {
    stored.end();
  }
  files?.finish({ status: outcome.status, ...(outcome.failure ? { failure: outcome.failure } : {}) });
  record?.finish();
  return outcome;
}

/** Artifacts to and from the coordinator, each dependency with its own token (docs/protocol.md §7). */
function coordinatorArtifacts(client: HttpClient, job: JobResponse, directDownload: boolean): ArtifactTransfer {
  return {
    upload: ({ artifact, file, filename, signal }) =>
      uploadArtifact(client, {
        jobId: job.id, jobToken: job.token, file, filename, signal,
        query: { artifact_type: artifact.artifact_type, artifact_format: artifact.artifact_format, expire_in: artifact.expire_in },
      }),
    download: ({ dependency, file, signal }) =>
      downloadArtifact(client, { jobId: dependency.id, token: dependency.token, file, signal, directDownload }),
  };
}


/** Masked trace bytes → one timestamper per stream (when on) → the buffer. */
function traceSink(buffer: TraceBuffer, timestamps: boolean): TraceSink & { end(): void } {
  const stampers = new Map<string, Timestamper>();
  return {
    write(bytes: Uint8Array, stream: TraceStream) {
      if (!timestamps) return buffer.write(bytes);
      const key = `${stream.id}${stream.type}`;
      let stamper = stampers.get(key);
      if (!stamper) stampers.set(key, (stamper = new Timestamper({ id: stream.id, type: stream.type, write: (b) => buffer.write(b) })));
      stamper.write(bytes);
    },
    endLine(stream: TraceStream) {
      // A fresh timestamper from here on, as GitLab Runner's fresh writer per stage and for the final line.
      const key = `${stream.id}${stream.type}`;
      stampers.get(key)?.end();
      stampers.delete(key);
    },
    end() {
      for (const stamper of stampers.values()) stamper.end();
      buffer.flush();
    },
  };
}
