import type { RunnerConfig } from "../config/config-schema.ts";
import type { Executor, ExecutorKind, DriverJob } from "../executors/executor.ts";
import { runnerInfo, type RunnerInfo } from "../protocol/runner-info.ts";
import { expandContainerNames } from "../job/container-names.ts";
import { JobFailure } from "../protocol/job-failure.ts";

/** The executors config.toml's `executor` may name: one line each. */
const EXECUTORS: Readonly<Record<string, ExecutorKind>> = {
  shell: { load: async () => (await import("../executors/shell/shell-driver.ts")).shellDriver, features: ["variables", "shared"] },
  ssh: { load: async () => (await import("../executors/ssh/ssh-driver.ts")).sshDriver, features: ["variables", "shared"] },
  docker: {
    load: async () => (await import("../executors/docker/docker-driver.ts")).dockerDriver,
    features: ["variables", "image", "services", "service_variables", "service_multiple_aliases"],
  },
  custom: { load: async () => (await import("../executors/custom/custom-driver.ts")).customDriver, features: ["variables", "shared"] },
};

/** The executor names this runner drives. */
export const EXECUTOR_NAMES: readonly string[] = Object.keys(EXECUTORS);

/** The `info` a runner sends GitLab: its executor with that executor's features, and its shell. */
export function runnerInfoFor(runner: Pick<RunnerConfig, "executor" | "shell"> | undefined): RunnerInfo {
  if (!runner) return runnerInfo({});
  return runnerInfo({
    executor: runner.executor, shell: runner.shell === "sh" ? "sh" : "bash", features: EXECUTORS[runner.executor]?.features ?? [],
  });
}

/**
 * The executor `[[runners]] executor` names, for one job, its image and service names expanded
 * with the job's variables (GitLab Runner's expandContainerOptions). A configuration it cannot
 * work with gives an executor that fails when prepared, so the job still ends with its failure in
 * the trace.
 */
export async function executorFor(job: DriverJob): Promise<Executor> {
  try {
    const driver = await EXECUTORS[job.runner.executor]?.load();
    if (!driver) {
      throw new JobFailure(`The ${job.runner.executor} executor is not available in this version (${EXECUTOR_NAMES.join(", ")} are)`, {
        failureReason: "runner_system_failure", system: true,
      });
    }
    return driver({ ...job, payload: expandContainerNames(job.payload) });
  } catch (error) {
    return failingExecutor(job.runner.executor, error);
  }
}

function failingExecutor(name: string, error: unknown): Executor {
  const unprepared = () => {
    throw error;
  };
  return {
    name, shell: "bash", description: `Using ${name} executor...`, environment: "shared", local: false,
    describeExit: (code) => `exit code ${code}`,
    get directories() {
      return unprepared();
    },
    get files() {
      return unprepared();
    },
    prepare: async () => unprepared(),
    run: async () => unprepared(),
    cleanup: async () => {},
  };
}
