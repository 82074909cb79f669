import { goDuration } from "./go-duration.ts";
import type { FailureReason } from "./types.ts";

/** Why a job stopped when it was not a plain script failure: decided once, from `signal.reason`. */
export type Interruption = "canceled" | "timeout" | "aborted";

/**
 * A job failed, in GitLab's vocabulary: a failure reason, the exit code of the script when there was
 * one, and the text that follows `ERROR: Job failed: ` in the trace.
 */
export class JobFailure extends Error {
  override readonly name = "JobFailure";
  readonly failureReason: FailureReason;
  readonly exitCode: number | undefined;
  /** True for failures of the runner rather than of the job (`ERROR: Job failed (system failure): …`). */
  readonly system: boolean;
  readonly interruption: Interruption | undefined;

  constructor(
    message: string,
    options: {
      failureReason: FailureReason;
      exitCode?: number;
      system?: boolean;
      interruption?: Interruption;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.failureReason = options.failureReason;
    this.exitCode = options.exitCode;
    this.system = options.system ?? false;
    this.interruption = options.interruption;
  }
}

/** A script exited non-zero; `message` is the executor's wording of it (`exit status 1`). */
export function scriptFailure(exitCode: number, message = `exit code ${exitCode}`): JobFailure {
  return new JobFailure(message, { failureReason: "script_failure", exitCode });
}

/** Thrown by whatever honours an `AbortSignal` whose reason says why it was aborted. */
export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
  constructor(
    readonly interruption: Interruption,
    message: string,
    /** The runner itself was stopped (a signal to its process): a system failure. */
    readonly system = false,
  ) {
    super(message);
  }
}

/** The reason to put into an AbortController when a timeout of `seconds` fires. */
export function timeoutReason(seconds: number): InterruptedError {
  return new InterruptedError("timeout", `execution took longer than ${goDuration(seconds)} seconds`);
}

/**
 * The reason to put into an AbortController when the job is canceled; `notice` is the warning the
 * trace shows, as GitLab's `script canceled externally (UI, API)`.
 */
export function cancelReason(notice?: string): InterruptedError {
  return Object.assign(new InterruptedError("canceled", "canceled"), { notice });
}

/** The warning a cancel asked to show in the trace, if any. */
export function cancelNotice(reason: unknown): string | undefined {
  const notice = (reason as { notice?: unknown } | undefined)?.notice;
  return typeof notice === "string" ? notice : undefined;
}

/** The reason to put into an AbortController when the job is aborted (everything but cleanup stops). */
export function abortReason(): InterruptedError {
  return new InterruptedError("aborted", "aborted");
}

/** Go's names of the signals that stop a runner, as GitLab Runner prints them (`aborted: terminated`). */
const SIGNAL_NAMES = { SIGTERM: "terminated", SIGINT: "interrupt", SIGQUIT: "quit" } as const;

/**
 * The reason when the runner's own process is told to stop while jobs run: GitLab Runner's
 * `aborted: <signal>`, a runner_system_failure (common/build.go run, `b.SystemInterrupt`).
 */
export function systemInterruptReason(signal: keyof typeof SIGNAL_NAMES): InterruptedError {
  return new InterruptedError("aborted", `aborted: ${SIGNAL_NAMES[signal]}`, true);
}

/** Maps any thrown value to a {@link JobFailure}; unknown errors are runner system failures. */
export function toJobFailure(error: unknown): JobFailure {
  if (error instanceof JobFailure) return error;
  if (error instanceof InterruptedError) return interruptionFailure(error);
  const message = error instanceof Error ? error.message : String(error);
  return new JobFailure(message, { failureReason: "runner_system_failure", system: true, cause: error });
}

function interruptionFailure(error: InterruptedError): JobFailure {
  switch (error.interruption) {
    case "timeout":
      return new JobFailure(error.message, { failureReason: "job_execution_timeout", interruption: "timeout" });
    case "canceled":
      return new JobFailure("canceled", { failureReason: "job_canceled", interruption: "canceled" });
    case "aborted":
      return error.system
        ? new JobFailure(error.message, { failureReason: "runner_system_failure", system: true, interruption: "aborted" })
        : new JobFailure("aborted", { failureReason: "job_canceled", interruption: "aborted" });
  }
}

/** The failure a signal's reason stands for, once the signal is aborted. */
export function failureFromSignal(signal: AbortSignal): JobFailure {
  return toJobFailure(signal.reason instanceof InterruptedError ? signal.reason : abortReason());
}

/** The failures of a job's three parts, each undefined when that part succeeded or did not run. */
export interface JobFailures {
  /** Everything up to and including the user's script (prepare, sources, cache restore, artifacts download, script, after_script). */
  readonly script?: JobFailure;
  /** Saving the cache. */
  readonly cache?: JobFailure;
  /** Uploading the artifacts. */
  readonly artifacts?: JobFailure;
}

/**
 * Which failure decides the job, as GitLab Runner's pickPriorityError (common/build.go): the
 * script's (the failures that came before the uploads matter most), else the cache's, else the
 * artifacts'.
 */
export function pickPriorityError(failures: JobFailures): JobFailure | undefined {
  return failures.script ?? failures.cache ?? failures.artifacts;
}
