import type { RunnerConfig } from "../config/config-schema.ts";
import { buildContainerName, dockerOwner } from "../executors/docker/docker-names.ts";
import type { Executor, StageCommand, StageOutput } from "../executors/executor.ts";
import type { JobResponse } from "../protocol/types.ts";
import type { ShellName } from "../shell/shell-writer.ts";

/** Where a shell is opened in a failed job's build container (`--shell-on-failure`). */
export interface ShellPlace {
  readonly container: string;
  readonly workingDir: string;
  readonly environment: readonly string[];
  readonly shell: ShellName;
}

/** `runner exec`'s debugging flags, for the jobs that run in Docker. */
export interface DebugOptions {
  /** `--keep`: a failed job's containers stay, and the command to enter them is printed. */
  readonly keep: boolean;
  /** `--shell-on-failure`: when a script stage of the user fails, a shell in the build container; the job goes on when it returns. */
  readonly openShell?: (at: ShellPlace) => Promise<void>;
}

/**
 * A Docker job's executor with `runner exec`'s debugging around it. The executor knows nothing of
 * it: `--keep` leaves out its cleanup after a failure (what stays is removed by the next run, its
 * labels naming this process), `--shell-on-failure` waits in a shell after a failed script stage.
 */
export function withDebugging(executor: Executor, job: { readonly payload: JobResponse; readonly runner: RunnerConfig }, options: DebugOptions): Executor {
  if (job.runner.executor !== "docker" || (!options.keep && !options.openShell)) return executor;
  const container = buildContainerName(dockerOwner(job.runner, job.payload));
  const openShell = options.openShell;
  return {
    get name() { return executor.name; },
    get shell() { return executor.shell; },
    get description() { return executor.description; },
    get environment() { return executor.environment; },
    get directories() { return executor.directories; },
    get local() { return executor.local; },
    get files() { return executor.files; },
    describeExit: (code) => executor.describeExit(code),
    prepare: (o) => executor.prepare(o),
    async run(command: StageCommand, output: StageOutput) {
      const result = await executor.run(command, output);
      if (openShell && result.exitCode !== 0 && !command.signal.aborted && command.stage.startsWith("step_")) {
        await openShell({ container, workingDir: executor.directories.projectDir, environment: command.environment ?? [], shell: executor.shell });
      }
      return result;
    },
    async cleanup(outcome) {
      if (!options.keep || !outcome?.failed) return executor.cleanup(outcome);
      outcome.log("The job's containers are kept for debugging (--keep); enter the build container with:");
      outcome.log(`  docker exec -it -w ${executor.directories.projectDir} ${container} ${executor.shell}`);
    },
  };
}
