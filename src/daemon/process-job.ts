import { resolve } from "node:path";
import type { RunnerConfig } from "../config/config-schema.ts";
import { downloadArtifact, uploadArtifact } from "../protocol/artifacts-api.ts";
import { mapFailureReason } from "../protocol/failure-reason.ts";
import type { HttpClient } from "../protocol/http-client.ts";
import { runnerInfo } from "../protocol/runner-info.ts";
import { shortToken } from "../protocol/token.ts";
import type { JobResponse, JobVariable } from "../protocol/types.ts";
import type { ShellName } from "../shell/shell-writer.ts";
import type { ArtifactTransfer } from "../steps/artifact-transfer.ts";
import { abortReason, cancelReason, InterruptedError } from "../protocol/job-failure.ts";
import { runJob, type JobOutcome } from "../steps/run-job.ts";
import { resolveFeatureFlags } from "../job/feature-flags.ts";
import { debugTrace } from "../job/debug-trace.ts";
import type { TraceSink, TraceStream } from "../trace/job-trace.ts";
import { Timestamper } from "../trace/timestamper.ts";
import { TraceBuffer } from "../trace/trace-buffer.ts";
import { executorFor } from "./executor-factory.ts";
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
 * (gitlab-protocol.md §3.5, §5, §6): the trace goes through the masker and the timestamper into a
 * size-limited buffer that the reporter PATCHes up, and `Job-Status` answers cancel or abort it.
 */
export async function processJob(options: {
  client: HttpClient;
  runner: RunnerConfig;
  job: JobResponse;
  concurrentId: number;
  systemId?: string;
  signals: DaemonSignals;
  hostEnv: Record<string, string>;
  timing?: ReporterTiming;
  /** Told of each stage the job enters (for `gitlab_runner_jobs{stage}`). */
  onStage?: (stage: string) => void;
}): Promise<ProcessedJob> {
  const { client, runner, job } = options;
  const shell = (runner.shell === "sh" ? "sh" : "bash") satisfies ShellName;
  const info = runnerInfo({ executor: runner.executor, shell });
  const buffer = new TraceBuffer({ limit: runner.output_limit * 1024 });
  const cancel = new AbortController();
  const abort = new AbortController();
  const grace = new AbortController();
  const debug = debugTrace([...runner.environment.map(toVariable), ...job.variables], runner.debug_trace_disabled ?? false);
  const reporter = new JobReporter({
    client, job, info, buffer, debugTrace: debug.on,
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
    // The daemon's own reason (GitLab Runner's `aborted: terminated`) when it has one.
    const onDaemonAbort = () => abort.abort(options.signals.abort.reason instanceof InterruptedError ? options.signals.abort.reason : abortReason());
    const onDeadline = () => grace.abort(abortReason());
    options.signals.abort.addEventListener("abort", onDaemonAbort, { once: true });
    options.signals.deadline.addEventListener("abort", onDeadline, { once: true });
    if (options.signals.abort.aborted) onDaemonAbort();
    reporter.startTraceUpdates();
    const flags = resolveFeatureFlags(runner.feature_flags, [...runner.environment.map(toVariable), ...job.variables]);
    const stored = traceSink(buffer, flags.on("FF_TIMESTAMPS"));
    // With `record_dir`, the job also leaves a run record of its own (`job-<id>`).
    const record = runner.record_dir ? new RunRecord(runner.record_dir, { runId: `job-${job.id}` }) : undefined;
    const files = record?.job({
      name: job.job_info.name, slug: "job", stage: job.job_info.stage, allowFailure: job.steps.some((s) => s.name === "script" && s.allow_failure),
      commands: job.steps.find((s) => s.name === "script")?.script.filter((c) => c.trim() !== "") ?? [],
      maskedPhrases: job.variables.filter((v) => v.masked).map((v) => v.value),
    });
    const sink = files ? { write: (b: Uint8Array, s: TraceStream) => (files.traceSink.write(b, s), stored.write(b, s)), end: () => stored.end() } : stored;
    let outcome: JobOutcome;
    try {
      outcome = await runJob({
        job,
        executor: executorFor(runner, job, options.concurrentId, options.hostEnv),
        sink,
        sources: { kind: "git" },
        artifacts: coordinatorArtifacts(client, job, flags.on("FF_USE_DIRECT_DOWNLOAD")),
        settings: {
          userAgent: `gitlab-runner ${info.version} ${info.platform}/${info.architecture}`,
          preGetSourcesScript: lines(runner.pre_get_sources_script ?? runner.pre_clone_script),
          postGetSourcesScript: lines(runner.post_get_sources_script ?? runner.post_clone_script),
          preBuildScript: lines(runner.pre_build_script),
          postBuildScript: lines(runner.post_build_script),
          cacheDir: resolve(runner.cache_dir ?? "cache"),
        },
        runner: {
          name: runner.name || "runner", shortToken: shortToken(runner.token), concurrentId: options.concurrentId,
          ...(options.systemId ? { systemId: options.systemId } : {}),
        },
        signals: { cancel: cancel.signal, abort: abort.signal, grace: grace.signal },
        ...(files ? { recorder: files.recorder } : {}),
        environment: runner.environment.map(toVariable),
        featureFlags: runner.feature_flags,
        ...(options.onStage ? { onSection: options.onStage } : {}),
        debugTraceDisabled: runner.debug_trace_disabled ?? false,
      });
    } finally {
      options.signals.abort.removeEventListener("abort", onDaemonAbort);
      options.signals.deadline.removeEventListener("abort", onDeadline);
      sink.end();
    }
    files?.finish({ status: outcome.status, ...(outcome.failure ? { failure: outcome.failure } : {}) });
    record?.finish();
    const failure = outcome.failure;
    const reported = await reporter.finish(
      failure === undefined
        ? { state: "success" }
        : {
            state: "failed",
            failure_reason: mapFailureReason(failure.failureReason, job.features.failure_reasons),
            ...(failure.exitCode ? { exit_code: failure.exitCode } : {}),
          },
    );
    return { kind: "finished", outcome, reported };
  } finally {
    buffer.close();
  }
}

/** Artifacts to and from the coordinator, each dependency with its own token (§7). */
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

function lines(script: string | undefined): string[] {
  return script === undefined || script.trim() === "" ? [] : [script];
}

function toVariable(entry: string): JobVariable {
  const eq = entry.indexOf("=");
  return eq < 0
    ? { key: entry, value: "", public: true, masked: false }
    : { key: entry.slice(0, eq), value: entry.slice(eq + 1), public: true, masked: false };
}
