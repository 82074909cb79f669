import type { Executor } from "../executors/executor.ts";
import type { JobResponse, JobVariable } from "../protocol/types.ts";
import { executableArch, REVISION, VERSION } from "../version.ts";
import { withoutFlagVariables, type FeatureFlags } from "../job/feature-flags.ts";

/** Who is running the job, for the trace header and `CI_RUNNER_*`. */
export interface RunnerIdentity {
  readonly name: string;
  /** The first 8 characters of the runner token after its prefix, when there is a token. */
  readonly shortToken?: string;
  readonly systemId?: string;
  readonly concurrentId?: number;
}

/**
 * The job's variables with the runner's own around them, as GitLab Runner's `GetAllVariables`:
 * directory variables before the job's (so the job can override them), identity variables after.
 */
export function withRunnerVariables(
  job: JobResponse,
  executor: Executor,
  runner: RunnerIdentity,
  environment: readonly JobVariable[] = [],
  flags?: FeatureFlags,
): JobVariable[] {
  const v = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false });
  const dirs = executor.directories;
  // The flags as resolved come first, and the job's own FF_ variables go (GitLab Runner's
  // getResolvedFeatureFlags / getNonFeatureFlagJobVariables): a script sees what the runner does.
  const own = (list: readonly JobVariable[]) => (flags ? withoutFlagVariables(list) : list);
  return [
    ...(flags?.variables ?? []),
    v("CI_BUILDS_DIR", dirs.buildsDir),
    v("CI_PROJECT_DIR", dirs.projectDir),
    v("CI_CONCURRENT_ID", String(runner.concurrentId ?? 0)),
    v("CI_CONCURRENT_PROJECT_ID", String(runner.concurrentId ?? 0)),
    v("CI_SERVER", "yes"),
    v("CI_JOB_TIMEOUT", String(job.runner_info.timeout || 7200)),
    ...own(environment),
    ...own(job.variables),
    v(executor.environment === "shared" ? "CI_SHARED_ENVIRONMENT" : "CI_DISPOSABLE_ENVIRONMENT", "true"),
    v("CI_RUNNER_VERSION", VERSION),
    v("CI_RUNNER_REVISION", REVISION),
    v("CI_RUNNER_EXECUTABLE_ARCH", executableArch()),
    ...(runner.shortToken ? [v("CI_RUNNER_SHORT_TOKEN", runner.shortToken)] : []),
    v("RUNNER_TEMP_PROJECT_DIR", dirs.tmpDir),
  ];
}
