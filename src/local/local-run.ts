import { join } from "node:path";
import type { JobResponse } from "../protocol/types.ts";
import type { Executor } from "../executors/executor.ts";
import type { SourceProvider } from "../steps/context.ts";
import { cancelReason } from "../protocol/job-failure.ts";
import { runJob, unstoredTraceFailure, type JobOutcome, type JobSignals } from "../steps/run-job.ts";
import type { TraceSink } from "../trace/job-trace.ts";
import type { JobDefinition } from "../pipeline/definitions.ts";
import type { GitFacts } from "../pipeline/git-facts.ts";
import type { PlannedJob } from "../pipeline/plan.ts";
import { slugify } from "../pipeline/slug.ts";
import { RunRecord, type JobSummary } from "../record/run-record.ts";
import { readGitSettings } from "../job/git-settings.ts";
import { maskedPhrases, resolveVariables } from "../job/variables.ts";
import { LocalArtifacts } from "./local-artifacts.ts";
import { reasonNotToRun } from "./previous-status.ts";
import { coverageFromTrace } from "../record/coverage.ts";
import { expandKnown } from "../pipeline/expand-known.ts";
import { toJobPayload, type PayloadContext, type Received } from "../pipeline/payload.ts";
import type { RunnerConfig } from "../config/config-schema.ts";
import { jobRunOptions } from "../runners/job-setup.ts";
import type { ShellHeadStart } from "../executors/shell/shell-head-start.ts";
import { syncWorktree, type SyncSummary, type WorktreeListing } from "./worktree.ts";

/** How one job of a local run ended; `skipped` jobs never started. */
export interface LocalJobResult {
  readonly job: JobDefinition;
  readonly status: JobOutcome["status"] | "skipped";
  readonly allowFailure: boolean;
  readonly outcome?: JobOutcome;
  /** The job's summary in the run record. */
  readonly summary?: JobSummary;
}

/** What a local run is made of; the command line decides each part. */
export interface LocalRunOptions {
  readonly jobs: readonly PlannedJob[];
  /** Manual jobs not played: recorded with the status `manual`, so the run's status is GitLab's. */
  readonly unplayed?: readonly JobDefinition[];
  readonly git: GitFacts;
  /** The directory the run is for: its `.runner/` holds builds and records. */
  readonly projectRoot: string;
  /** The working tree, listed once for the whole run. */
  readonly worktree: Promise<WorktreeListing>;
  readonly concurrency: number;
  readonly signals: JobSignals;
  /** `workflow:auto_cancel:on_job_failure: all`: a failure cancels the running jobs, and the rest do not start. */
  readonly cancelOnJobFailure?: boolean;
  readonly hostEnv: Record<string, string>;
  /** What each job's payload is made from; job ids are `<pipeline id>00<n>`. */
  readonly payloads: { readonly pipelineId: number; readonly context: PayloadContext };
  /** The `[[runners]]` entry each job runs with, by job name (`runner exec` makes them of its flags). */
  readonly runners: ReadonlyMap<string, RunnerConfig>;
  /** Shows one job's trace. */
  readonly view: (job: JobDefinition) => TraceSink & { flush(): void };
  /** Warnings said in a job's trace, by job name. */
  readonly warnings?: ReadonlyMap<string, readonly string[]>;
  /** Wraps each job's executor (`--keep`, `--shell-on-failure`). */
  readonly decorate?: (executor: Executor, job: { readonly payload: JobResponse; readonly runner: RunnerConfig }) => Executor;
  /** The run's record on disk. */
  readonly record?: RunRecord;
  /** A shell started before planning, for the first shell job to claim. */
  readonly headStart?: ShellHeadStart;
}

/**
 * Runs the planned jobs as GitLab's DAG does: a job starts once every job it waits for (its needs, or
 * all jobs of the earlier stages) has ended, at most `concurrency` at a time. Whether it runs depends
 * on how those ended (see {@link reasonNotToRun}).
 */
export async function runLocalPipeline(given: LocalRunOptions): Promise<LocalJobResult[]> {
  // A failure under auto_cancel:on_job_failure: all cancels the run as Ctrl-C would.
  const failure = new AbortController();
  const options = given.cancelOnJobFailure
    ? { ...given, signals: { ...given.signals, cancel: AbortSignal.any([given.signals.cancel, failure.signal]) } }
    : given;
  const planned = options.jobs;
  const artifacts = new LocalArtifacts();
  const results = new Map<string, LocalJobResult>();
  const started = new Set<string>();
  const running = new Set<Promise<void>>();
  // resource_group: a group held by a running job makes its other jobs wait, locally as on GitLab.
  const heldGroups = new Set<string>();
  const groups = new Map<PlannedJob, string | undefined>();
  // Concurrency slots, as a GitLab runner's: a job takes the lowest free one; a kept Docker build
  // volume belongs to a project and a slot, so a pipeline keeps at most `concurrency` of them.
  const busySlots = new Set<number>();
  for (;;) {
    const ready = planned.filter((p) => !started.has(p.job.name) && p.after.every((name) => results.has(name)));
    for (const next of ready) {
      if (running.size >= Math.max(1, options.concurrency)) break;
      const group = resourceGroupOf(next, planned.indexOf(next), options, groups);
      if (group !== undefined && heldGroups.has(group)) continue;
      if (group !== undefined) heldGroups.add(group);
      started.add(next.job.name);
      const index = planned.indexOf(next);
      const skip = reasonNotToRun(next.job, next.after.map((name) => results.get(name)!));
      let slot = 0;
      while (busySlots.has(slot)) slot++;
      busySlots.add(slot);
      const task = decide(next, index, skip, { ...options, artifacts, slot }).then((result) => {
        busySlots.delete(slot);
        results.set(next.job.name, result);
        if (result.status === "failed" && !result.allowFailure) {
          failure.abort(cancelReason(`canceled: ${next.job.name} failed (workflow:auto_cancel:on_job_failure: all)`));
        }
        if (group !== undefined) heldGroups.delete(group);
        running.delete(task);
      });
      running.add(task);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  for (const [i, job] of (options.unplayed ?? []).entries()) {
    const files = options.record?.job(recordOptions(job, planned.length + i, payloadOf(job, planned.length + i, options)));
    files?.recorder.start();
    files?.finish({ status: "manual", skipReason: `a manual job nobody played (--manual "${job.name}" plays it)` });
  }
  return planned.map((p) => results.get(p.job.name)!);
}

type RunOptions = LocalRunOptions & { readonly artifacts: LocalArtifacts; readonly slot: number };

/** `resource_group:` with the job's variables expanded, as GitLab expands it (once per job); undefined without one. */
function resourceGroupOf(planned: PlannedJob, index: number, options: LocalRunOptions, known: Map<PlannedJob, string | undefined>): string | undefined {
  const group = planned.job.resourceGroup;
  if (group === undefined || !group.includes("$")) return group;
  if (!known.has(planned)) {
    const variables = new Map(payloadOf(planned.job, index, options).variables.map((v) => [v.key, v.value]));
    known.set(planned, expandKnown(group, (name) => variables.get(name)));
  }
  return known.get(planned);
}

/** The job as GitLab would send it, with what it receives from the jobs before it. */
function payloadOf(job: JobDefinition, index: number, options: LocalRunOptions, received?: Received): JobResponse {
  return toJobPayload(job, jobId(options, index), options.payloads.context, received);
}

function jobId(options: LocalRunOptions, index: number): number {
  return options.payloads.pipelineId * 1000 + index + 1;
}

async function decide(planned: PlannedJob, index: number, skip: string | undefined, options: RunOptions): Promise<LocalJobResult> {
  const { job } = planned;
  if (skip !== undefined || options.signals.cancel.aborted || options.signals.abort.aborted) {
    const reason = skip ?? "the run was canceled";
    const files = options.record?.job(recordOptions(job, index, payloadOf(job, index, options)));
    files?.recorder.start();
    const summary = files?.finish({ status: "skipped", skipReason: reason });
    return { job, status: "skipped", allowFailure: job.allowFailure, ...(summary ? { summary } : {}) };
  }
  if (job.when === "delayed" && job.startInSeconds) {
    // GitLab schedules it start_in after it became runnable; here the run waits that long (Ctrl-C ends the wait).
    const cancel = AbortSignal.any([options.signals.cancel, options.signals.abort]);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, job.startInSeconds! * 1000);
      cancel.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (cancel.aborted) return decide(planned, index, skip, options);
  }
  return runOne(planned, index, options);
}

async function runOne(planned: PlannedJob, index: number, options: RunOptions): Promise<LocalJobResult> {
  const { job } = planned;
  const received = options.artifacts.received(planned, options.jobs, (name) => jobId(options, options.jobs.findIndex((p) => p.job.name === name)));
  const payload = payloadOf(job, index, options, received);
  const runner = options.runners.get(job.name);
  if (!runner) throw new Error(`no runner for ${job.name}`);
  const slug = slugify(job.name) || `job-${index}`;
  const place = { relative: `${slug}/${payload.job_info.project_name}`, slot: String(options.slot) };
  const view = options.view(job);
  // `retry`: each attempt is a fresh executor and its own record (`<job>-retry-N`), as GitLab makes a new job.
  for (let attempt = 0; ; attempt++) {
    const files = options.record?.job({ ...recordOptions(job, index, payload), ...(attempt > 0 ? { slug: `${slug}-retry-${attempt}` } : {}) });
    const sink: TraceSink = files ? { write: (b, s) => (files.traceSink.write(b, s), view.write(b, s)) } : view;
    const retrying = attempt > 0 ? [`Retrying the job: attempt ${attempt + 1} of ${job.retry!.max + 1}`] : [];
    const ran = await runJob(await jobRunOptions(runner, payload, place, options.hostEnv, {
      sink, signals: options.signals,
      sources: (executor) => localSources(options.projectRoot, copier(payload, executor, options)),
      ...(files ? { recorder: files.recorder, artifacts: options.artifacts.transferFor(job.name, files.dir) } : {}),
      warnings: [...retrying, ...(options.warnings?.get(job.name) ?? [])],
      ...(options.decorate ? { decorate: (executor: Executor) => options.decorate!(executor, { payload, runner }) } : {}),
      ...(options.headStart ? { headStart: options.headStart } : {}),
    }));
    // The record is this road's stored trace: a job whose record the disk refused fails as the daemon's does.
    const outcome = unstoredTraceFailure(ran, files?.refusal());
    view.flush();
    const code = outcome.failure?.exitCode;
    const allowFailure = job.allowFailure || (code !== undefined && (job.allowFailureExitCodes ?? []).includes(code));
    const coverage = files && job.coverage ? coverageFromTrace(await Bun.file(join(files.dir, "trace.log")).text(), job.coverage) : undefined;
    const summary = files?.finish({
      status: outcome.status, allowFailure, ...(outcome.failure ? { failure: outcome.failure } : {}), ...(coverage !== undefined ? { coverage } : {}),
      ...(outcome.issues ? { issues: outcome.issues } : {}), ...(outcome.withIssues ? { withIssues: true } : {}),
    });
    if (shouldRetry(job, outcome, attempt, options)) continue;
    return { job, status: outcome.status, allowFailure, outcome, ...(summary ? { summary } : {}) };
  }
}

/** GitLab's rule: a failed job is retried while attempts remain and its reason or exit code is listed. */
function shouldRetry(job: JobDefinition, outcome: JobOutcome, attempt: number, options: RunOptions): boolean {
  const retry = job.retry;
  if (!retry || attempt >= retry.max || outcome.status !== "failed" || !outcome.failure) return false;
  if (options.signals.cancel.aborted || options.signals.abort.aborted) return false;
  const { failureReason, exitCode } = outcome.failure;
  return retry.when.includes("always") || retry.when.includes(failureReason) || (exitCode !== undefined && retry.exitCodes.includes(exitCode));
}

/** What the run record needs of a job: its script lines (for the per-line phases) and its secrets (to mask them). */
function recordOptions(job: JobDefinition, index: number, payload: JobResponse) {
  const script = payload.steps.find((s) => s.name === "script")?.script ?? [];
  return {
    name: job.name, slug: slugify(job.name) || `job-${index}`, stage: job.stage, allowFailure: job.allowFailure,
    commands: script.filter((c) => c.trim() !== ""),
    maskedPhrases: maskedPhrases(resolveVariables(payload.variables, "")),
    ...(job.needs ? { needs: job.needs.map((n) => n.job) } : {}),
  };
}

/**
 * How the working tree reaches the job's project directory. On this machine the copy starts right
 * away and overlaps the job's first stages; on a remote host it starts when get_sources asks, once
 * the executor is connected. Nothing is copied for `GIT_STRATEGY` none or empty.
 */
function copier(payload: JobResponse, executor: Executor, options: LocalRunOptions): (() => Promise<SyncSummary>) | undefined {
  const { strategy } = readGitSettings(payload, payload.variables).settings;
  if (strategy !== "clone" && strategy !== "fetch") return undefined;
  const start = () =>
    options.worktree.then((listing) =>
      syncWorktree(listing, { files: executor.files, dir: executor.directories.projectDir }, {
        sha: options.git.sha, env: options.hostEnv,
        origin: {
          ...(options.git.remoteUrl ? { url: options.git.remoteUrl } : {}),
          ...(options.git.refType === "branch" && options.git.ref ? { branch: options.git.ref } : {}),
          ...(options.git.defaultBranch ? { defaultBranch: options.git.defaultBranch } : {}),
          ...(options.git.defaultBranchCommit ? { defaultBranchCommit: options.git.defaultBranchCommit } : {}),
        },
      }),
    );
  if (!executor.local) return start;
  const early = start();
  early.catch(() => {}); // Awaited by get_sources, which reports the failure.
  return () => early;
}

/** get_sources for a local run: the working tree, uncommitted changes included, copied in. */
function localSources(root: string, copy: (() => Promise<SyncSummary>) | undefined): SourceProvider {
  return {
    kind: "local",
    async provide(ctx) {
      if (copy === undefined) throw new Error("The working tree was not copied for this job");
      ctx.trace.info(`Copying the working tree of ${root} (uncommitted changes included)...`);
      const summary = await copy();
      ctx.trace.println(`${summary.files} files, ${summary.copied} copied, ${summary.removed} removed`);
    },
  };
}


