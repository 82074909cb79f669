import { JobFailure } from "../../protocol/job-failure.ts";
import { supervise } from "../../shell/supervisor.ts";
import type { DriverExecutable } from "./custom-config.ts";

/** The exit codes a driver says how it failed with (executors/custom/command/command.go). */
export const BUILD_FAILURE_EXIT_CODE = 1;
export const SYSTEM_FAILURE_EXIT_CODE = 2;

/** One call of a driver's executable: where it runs, what it sees, where its output goes, how long it may take. */
export interface DriverCall {
  /** `config_exec`, `prepare_exec`, `run_exec`, `cleanup_exec`: named in errors. */
  readonly role: string;
  readonly executable: DriverExecutable;
  /** Added after the configured arguments (run_exec: the script's path and the stage's name). */
  readonly extraArgs?: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdout: (chunk: Uint8Array) => void;
  readonly stderr: (chunk: Uint8Array) => void;
  /** The job's cancel, timeout or abort. */
  readonly signal: AbortSignal;
  /** The stage's own deadline (`*_exec_timeout`). */
  readonly timeoutMs?: number;
  readonly gracefulKillMs: number;
  readonly forceKillMs: number;
}

/**
 * Runs a driver executable in a process group of its own, as GitLab Runner does, and returns its
 * exit code. On the job's cancel or timeout, or its own deadline, the group gets TERM, then KILL
 * after `graceful_kill_timeout`. What it starts in the background is left running when it exits
 * (a driver may start its environment so); cleanup_exec is there to stop it.
 */
export async function callDriver(call: DriverCall): Promise<number> {
  const deadline = call.timeoutMs !== undefined ? AbortSignal.timeout(call.timeoutMs) : undefined;
  const signal = deadline ? AbortSignal.any([call.signal, deadline]) : call.signal;
  let result;
  try {
    result = await supervise([call.executable.path, ...call.executable.args, ...(call.extraArgs ?? [])], {
      cwd: call.cwd, env: call.env, signal, graceMs: call.gracefulKillMs, drainMs: call.forceKillMs,
      onStdout: call.stdout, onStderr: call.stderr, leaveGroupOnExit: true,
    });
  } catch (error) {
    throw new JobFailure(`${call.role}: failed to start command: ${error instanceof Error ? error.message : String(error)}`, {
      failureReason: "runner_system_failure", system: true, cause: error,
    });
  }
  if (deadline?.aborted && !call.signal.aborted) {
    throw new JobFailure(`${call.role}: no end after ${call.timeoutMs! / 1000} s (${call.role}_timeout): terminated`, {
      failureReason: "runner_system_failure", system: true,
    });
  }
  return result.exitCode;
}

/**
 * A driver's exit code as GitLab Runner reads it: BUILD_FAILURE_EXIT_CODE is the job's failure,
 * SYSTEM_FAILURE_EXIT_CODE the environment's, any other an unknown failure of the driver (both
 * system failures). Undefined for 0.
 */
export function driverFailure(role: string, exitCode: number): JobFailure | undefined {
  if (exitCode === 0) return undefined;
  if (exitCode === BUILD_FAILURE_EXIT_CODE) return new JobFailure(`exit status ${exitCode}`, { failureReason: "script_failure", exitCode });
  if (exitCode === SYSTEM_FAILURE_EXIT_CODE) {
    return new JobFailure(`${role}: exit status ${exitCode}`, { failureReason: "runner_system_failure", system: true });
  }
  return new JobFailure(`unknown Custom executor executable exit code ${exitCode}; executable execution terminated with: exit status ${exitCode}`, {
    failureReason: "runner_system_failure", system: true,
  });
}
