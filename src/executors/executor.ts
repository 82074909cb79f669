import type { RunnerConfig } from "../config/config-schema.ts";
import type { JobResponse } from "../protocol/types.ts";
import type { FeatureKey } from "../protocol/runner-info.ts";
import type { ShellName } from "../shell/shell-writer.ts";
import type { BuildFiles } from "./build-files.ts";
import type { ShellHeadStart } from "./shell/shell-head-start.ts";
import type { OutputWriter } from "../trace/job-trace.ts";

/** The build stages of GitLab Runner (docs/protocol.md §11.1). */
export type BuildStage =
  | "prepare_script"
  | "get_sources"
  | "clear_worktree"
  | "restore_cache"
  | "download_artifacts"
  | `step_${string}`
  | "after_script"
  | "archive_cache"
  | "archive_cache_on_failure"
  | "upload_artifacts_on_success"
  | "upload_artifacts_on_failure"
  | "cleanup_file_variables";

/** One stage script to run. */
export interface StageCommand {
  readonly script: string;
  readonly stage: BuildStage;
  /** True for the runner's own stages (get_sources, cache, artifacts), false for the user's scripts. */
  readonly predefined: boolean;
  readonly signal: AbortSignal;
  /** The job's variables as the script exports them (a file variable's value is its file's path). */
  readonly environment?: readonly string[];
}

/** Where a stage's output goes. */
export interface StageOutput {
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
}

/** The directories of one job, as the executor sees them. */
export interface BuildDirectories {
  /** `CI_BUILDS_DIR` */
  readonly buildsDir: string;
  /** `CI_PROJECT_DIR` */
  readonly projectDir: string;
  /** `RUNNER_TEMP_PROJECT_DIR` */
  readonly tmpDir: string;
}

/** What a job's feature flags ask of its executor (GitLab Runner's names in brackets). */
export interface JobExecutorOptions {
  /** Docker: stage scripts start with `umask 0000` (unless FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR). */
  readonly umask0000?: boolean;
  /** Docker: a network of the job's own even without services (FF_NETWORK_PER_BUILD). */
  readonly networkPerBuild?: boolean;
  /** Docker: containers start with `--init` (FF_USE_INIT_WITH_DOCKER_EXECUTOR). */
  readonly init?: boolean;
}

/**
 * An executor knows how to run a script, never what the script does. Its lifecycle: `prepare`,
 * any number of `run`s, one `cleanup` (idempotent, never throws).
 */
export interface Executor {
  /** GitLab's executor name, as in `Preparing the "shell" executor`. */
  readonly name: string;
  readonly shell: ShellName;
  /** The line printed before preparing, e.g. `Using Shell (bash) executor...`; empty when the executor says it itself while it prepares. */
  readonly description: string;
  /**
   * How GitLab Runner words a stage that exited non-zero on this executor, after `Job failed: `:
   * `exit status 1` (shell: Go's exec.ExitError), `Process exited with status 1` (ssh: x/crypto/ssh's
   * ExitError), `exit code 1` (docker).
   */
  describeExit(exitCode: number): string;
  /** `CI_SHARED_ENVIRONMENT` (shell, ssh) or `CI_DISPOSABLE_ENVIRONMENT` (docker). */
  readonly environment: "shared" | "disposable";
  readonly directories: BuildDirectories;
  /** Whether the build directory is on this machine (known before `prepare`). */
  readonly local: boolean;
  /** The build directories' files, for artifacts, caches and the working-tree copy. */
  readonly files: BuildFiles;
  /**
   * `log` writes a line of the executor's own to the trace (pulling images, starting services);
   * `job` is what the job's feature flags ask of the executor.
   */
  prepare(options: { signal: AbortSignal; log?: (line: string) => void; job?: JobExecutorOptions }): Promise<void>;
  /** Runs one stage script to its end and returns its exit code. Throws only when it cannot run it. */
  run(command: StageCommand, output: StageOutput): Promise<{ exitCode: number }>;
  /** `outcome` says how the job ended, and where the executor may say what it kept. */
  cleanup(outcome?: { readonly failed: boolean; readonly log: (line: string) => void }): Promise<void>;
}

/** Where one job stands among a runner's jobs: its directory below the builds directory, and its slot. */
export interface BuildPlace {
  /** The job's directory below `builds_dir`: `<short token>/<concurrent id>/<group>/<project>` for GitLab's jobs. */
  readonly relative: string;
  /** Unique among the jobs that may run at once: the concurrent id, or the job's name in a local run. */
  readonly slot: string;
  /** `CI_CONCURRENT_ID`: the job's number among the runner's running jobs (GitLab's jobs only). */
  readonly concurrentId?: number;
}

/** What a driver makes an executor from: the runner's `[[runners]]` entry and one job, as GitLab sent it. */
export interface DriverJob {
  readonly runner: RunnerConfig;
  /** The job, its image and service names expanded with its variables. */
  readonly payload: JobResponse;
  readonly place: BuildPlace;
  /** The environment the runner itself was started with. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** The road copies the sources in (`runner exec`): no git is needed where the job runs. */
  readonly sourcesCopiedIn?: boolean;
  /** A shell the run started before planning (`runner exec`), for the shell driver to claim. */
  readonly headStart?: ShellHeadStart;
}

/** An executor's driver: `executor = "<name>"` of config.toml made into an executor for one job. */
export type ExecutorDriver = (job: DriverJob) => Executor;

/**
 * What the registry knows of an executor: how to load its driver (only the one a job uses is
 * loaded: the ssh and docker drivers' libraries cost a local shell job ~17 ms to load), and the
 * features it adds to what every executor supports.
 */
export interface ExecutorKind {
  readonly load: () => Promise<ExecutorDriver>;
  /** The `features` keys of GitLab's job request this executor supports beyond the common ones. */
  readonly features: readonly FeatureKey[];
}
