import type { Executor, JobExecutorOptions } from "../executors/executor.ts";
import type { JobResponse, JobVariable } from "../protocol/types.ts";
import { JobTrace, type TraceObserver, type TraceSink } from "../trace/job-trace.ts";
import type { JobIssue } from "../trace/job-commands/trace-commands.ts";
import { REVISION, VERSION } from "../version.ts";
import type { ArtifactTransfer } from "./artifact-transfer.ts";
import type { JobContext, JobSettings, SourceProvider } from "./context.ts";
import { job as jobSteps } from "./job.ts";
import { cancelNotice, JobFailure, toJobFailure } from "../protocol/job-failure.ts";
import type { JobRecorder } from "../record/job-recorder.ts";
import { withRunnerVariables, type RunnerIdentity } from "./runner-variables.ts";
import { maskedPhrases, resolveVariables, variableValue } from "../job/variables.ts";
import { JobCommandState, STDOUT_COMMANDS_VARIABLE } from "./job-commands.ts";
import { resolveFeatureFlags, type FeatureFlags } from "../job/feature-flags.ts";
import { debugTrace } from "../job/debug-trace.ts";

/** How a job can be stopped from outside. */
export interface JobSignals {
  /** Graceful cancel: the script stops, after_script and on-failure uploads still run. */
  readonly cancel: AbortSignal;
  /** Abort: everything stops but cleanup. */
  readonly abort: AbortSignal;
  /** Aborted when even cleanup must stop (a second abort, or the shutdown deadline). */
  readonly grace: AbortSignal;
}

/** How a job ended. */
export interface JobOutcome {
  readonly status: "success" | "failed" | "canceled";
  readonly failure?: JobFailure;
  /** Errors that lost to the reported failure (cleanup after a failed script, say). */
  readonly suppressed: readonly JobFailure[];
  readonly durationMs: number;
  /** Warnings and errors the job's script raised with commands. */
  readonly issues?: readonly JobIssue[];
  /** `task.complete result=SucceededWithIssues`: passed, with its issues. */
  readonly withIssues?: boolean;
}

export interface RunJobOptions {
  readonly job: JobResponse;
  readonly executor: Executor;
  readonly sink: TraceSink;
  readonly sources: SourceProvider;
  /** Where artifacts go and come from; none: artifacts are not available to the job. */
  readonly artifacts?: ArtifactTransfer;
  readonly settings: JobSettings;
  readonly runner: RunnerIdentity;
  readonly signals: JobSignals;
  /** `[[runners]] environment`: variables the runner adds before the job's own. */
  readonly environment?: readonly JobVariable[];
  /** The run record of this job, when one is kept. */
  readonly recorder?: JobRecorder;
  /** Warnings about settings, printed right after the header (docs/protocol.md §9.3). */
  readonly warnings?: readonly string[];
  /** `[runners.feature_flags]`: they beat the job's `FF_*` variables. */
  readonly featureFlags?: Readonly<Record<string, boolean>>;
  /** `[[runners]] debug_trace_disabled`: CI_DEBUG_TRACE is refused. */
  readonly debugTraceDisabled?: boolean;
  /** Told of each section the job enters (`get_sources`, `step_script`…). */
  readonly onSection?: (name: string) => void;
}

/**
 * A job whose trace could not be stored (its file refused: a full disk) is a runner system failure,
 * whatever its script did: its log ends where the file does. A canceled job stays canceled.
 */
export function unstoredTraceFailure(outcome: JobOutcome, refusal: string | undefined): JobOutcome {
  if (refusal === undefined || outcome.status === "canceled") return outcome;
  const failure = new JobFailure(`the job's trace could not be stored: ${refusal}`, { failureReason: "runner_system_failure", system: true });
  return { ...outcome, status: "failed", failure, suppressed: outcome.failure ? [...outcome.suppressed, outcome.failure] : outcome.suppressed };
}

/** Runs one job through the step pipeline, writes its trace, and says how it ended. Never throws. */
export async function runJob(options: RunJobOptions): Promise<JobOutcome> {
  let cleaned: Promise<void> | undefined;
  const cleanup = (failed: boolean, log: (line: string) => void) => (cleaned ??= options.executor.cleanup({ failed, log }));
  try {
    return await runJobSteps(options, cleanup);
  } catch (error) {
    // Only what sets up the trace and the record comes before the steps; should it fail, the
    // executor made for the job (a shell it started ahead, a cgroup) is still cleaned up.
    await cleanup(true, () => {}).catch(() => {});
    throw error;
  }
}

async function runJobSteps(options: RunJobOptions, cleanup: (failed: boolean, log: (line: string) => void) => Promise<void>): Promise<JobOutcome> {
  const started = performance.now();
  const { job, executor, signals } = options;
  // Masking needs only the job's own variables; the runner's (directories among them) are known
  // once the executor is prepared: a remote build directory is resolved on the remote host.
  const secrets = resolveVariables([...(options.environment ?? []), ...job.variables], "");
  const flags = resolveFeatureFlags(options.featureFlags ?? {}, secrets);
  const debug = debugTrace(secrets, options.debugTraceDisabled ?? false);
  const commands = new JobCommandState({ trustOutput: variableValue(secrets, STDOUT_COMMANDS_VARIABLE) === "true" });
  const trace = jobTrace(options, maskedPhrases(secrets), flags, debug.on, commands);
  options.recorder?.start();
  const suppressed: JobFailure[] = [];
  const signal = AbortSignal.any([signals.cancel, signals.abort]);
  writeHeader(trace, options.runner, flags);
  for (const warning of [...debug.warnings, ...flags.warnings, ...(options.warnings ?? [])]) trace.warning(warning);
  let failure: JobFailure | undefined;
  try {
    await prepareExecutor(trace, executor, signal, {
      umask0000: !flags.on("FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR"),
      networkPerBuild: flags.on("FF_NETWORK_PER_BUILD"),
      init: flags.on("FF_USE_INIT_WITH_DOCKER_EXECUTOR"),
    });
    // The command file's directory ($RUNNER_COMMAND_FILE), beside the project.
    await executor.files.mkdir(executor.directories.tmpDir).catch(() => {});
    const ctx: JobContext = {
      job, executor, trace,
      variables: resolveVariables(
        withRunnerVariables(job, executor, options.runner, options.environment, flags),
        executor.directories.tmpDir,
      ),
      flags,
      commands,
      debugTrace: debug.on,
      shell: executor.shell,
      sources: options.sources,
      ...(options.artifacts ? { artifacts: options.artifacts } : {}),
      settings: options.settings,
      ...(options.recorder ? { record: options.recorder } : {}),
      signal,
      abortSignal: signals.abort,
      cancelSignal: signals.cancel,
      graceSignal: signals.grace,
      suppressed: (error) => suppressed.push(error),
    };
    await jobSteps(ctx);
  } catch (error) {
    failure = toJobFailure(error);
  } finally {
    await cleanup(failure !== undefined, (line) => trace.println(line));
  }
  for (const lost of suppressed) trace.warning(`Cleanup failed: ${lost.message}`);
  writeResult(trace, failure);
  trace.end();
  const status = failure === undefined ? "success" : failure.interruption === "canceled" ? "canceled" : "failed";
  return {
    status, failure, suppressed, durationMs: performance.now() - started,
    ...(trace.issues.length > 0 ? { issues: trace.issues } : {}),
    ...(commands.result?.value === "SucceededWithIssues" && status === "success" ? { withIssues: true } : {}),
  };
}

/** The job's trace: masked with its secrets and what its commands mask, job commands going to `commands`. */
function jobTrace(options: RunJobOptions, phrases: string[], flags: FeatureFlags, debug: boolean, commands: JobCommandState): JobTrace {
  return new JobTrace({
    debug, onJobCommand: (command, source) => commands.accept(command, source),
    ...(options.recorder ? { onMask: options.recorder.addMask } : {}),
    sink: options.sink,
    masking: {
      phrases, tokenPrefixes: options.job.features.token_mask_prefixes ?? [],
      allDefaultTokens: flags.on("FF_MASK_ALL_DEFAULT_TOKENS"),
    },
    sections: options.job.features.trace_sections,
    ...(options.recorder || options.onSection ? { observer: watchSections(options.recorder, options.onSection) } : {}),
  });
}

/** GitLab Runner's header (common/build.go printRunningWithHeader). */
function writeHeader(trace: JobTrace, runner: RunnerIdentity, flags: FeatureFlags): void {
  trace.println(`Running with runner ${VERSION} (${REVISION.slice(0, 8)})`);
  const token = runner.shortToken ? ` ${runner.shortToken}` : "";
  const systemId = runner.systemId ? `, system ID: ${runner.systemId}` : "";
  trace.println(`  on ${runner.name}${token}${systemId}`);
  if (flags.header) trace.println(`  feature flags: ${flags.header}`);
}

async function prepareExecutor(trace: JobTrace, executor: Executor, signal: AbortSignal, job: JobExecutorOptions): Promise<void> {
  trace.sectionStart("prepare_executor", `Preparing the "${executor.name}" executor`);
  try {
    if (executor.description) trace.println(executor.description);
    await executor.prepare({ signal, log: (line) => trace.println(line), job });
  } catch (error) {
    // A plain error is a system failure (toJobFailure); a JobFailure says itself what it is: the
    // job's own configuration (a refused image) is `Job failed:`, as GitLab Runner's BuildError.
    const failure = toJobFailure(error);
    trace.sectionEnd("prepare_executor", failure);
    throw failure;
  }
  trace.sectionEnd("prepare_executor");
}

function writeResult(trace: JobTrace, failure: JobFailure | undefined): void {
  trace.freshRunnerLine();
  if (failure === undefined) trace.info("Job succeeded");
  else if (failure.system) trace.error(`Job failed (system failure): ${failure.message}`);
  else trace.error(`Job failed: ${failure.message}`);
}

/** The recorder's observer, also telling `onSection` of each section that starts. */
function watchSections(inner: TraceObserver | undefined, onSection: ((name: string) => void) | undefined): TraceObserver {
  if (!onSection) return inner!;
  return {
    sectionStart: (name, time) => (onSection(name), inner?.sectionStart(name, time)),
    sectionEnd: (name, time, failure) => inner?.sectionEnd(name, time, failure),
    scriptLine: (index, time) => inner?.scriptLine(index, time),
    bytes: (count) => inner?.bytes(count),
  };
}
