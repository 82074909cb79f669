import type { Executor } from "../executors/executor.ts";
import type { JobResponse } from "../protocol/types.ts";
import type { ShellName } from "../shell/shell-writer.ts";
import type { JobTrace } from "../trace/job-trace.ts";
import type { PhaseCode } from "../record/phases.ts";
import type { ArtifactTransfer } from "./artifact-transfer.ts";
import type { StepScope } from "./compose.ts";
import type { ResolvedVariable } from "../job/variables.ts";
import type { FeatureFlags } from "../job/feature-flags.ts";
import type { RemoteCache } from "./remote-cache/remote-cache.ts";
import type { JobCommandState } from "./job-commands.ts";

/**
 * Where a job's sources come from: GitLab's git remote, or (for local runs) a copy of the working
 * tree that the runner places in the project directory itself.
 */
export type SourceProvider =
  | { readonly kind: "git" }
  | {
      readonly kind: "local";
      /** Fills the project directory, writing what it did to the trace. */
      readonly provide: (ctx: JobContext) => Promise<void>;
    };

/** Settings of the runner (config.toml or the command line) that steps read. */
export interface JobSettings {
  /** The `http.userAgent` git sends. */
  readonly userAgent: string;
  readonly preGetSourcesScript?: readonly string[];
  readonly postGetSourcesScript?: readonly string[];
  readonly preBuildScript?: readonly string[];
  readonly postBuildScript?: readonly string[];
  /** Where local caches live: `<cacheDir>/<project path>/<key>/cache.zip`. None: no cache. */
  readonly cacheDir?: string;
  /** `[runners.cache]` of a fleet: the local archive is its copy, fetched before and sent after. */
  readonly remoteCache?: RemoteCache;
}

/** Everything a step may use. Steps never call each other; they share only this and the build dir. */
export interface JobContext extends StepScope {
  readonly job: JobResponse;
  readonly executor: Executor;
  readonly shell: ShellName;
  readonly trace: JobTrace;
  /** The job's variables after the runner's expansion, runner variables included. */
  readonly variables: readonly ResolvedVariable[];
  /** The job's feature flags: `[runners.feature_flags]` over its `FF_*` variables. */
  readonly flags: FeatureFlags;
  /** CI_DEBUG_TRACE, unless the runner has `debug_trace_disabled`. */
  readonly debugTrace?: boolean;
  /** What the job's commands changed for its later stages (variables, PATH, result, files). */
  readonly commands?: JobCommandState;
  readonly sources: SourceProvider;
  /** The run record, told of phases a step deliberately skips. */
  readonly record?: { skip(phase: PhaseCode, reason: string): void };
  /** Where artifacts go and come from; none means artifacts are not available to this job. */
  readonly artifacts?: ArtifactTransfer;
  readonly settings: JobSettings;
  /** Aborted when the job is aborted outright: nothing but cleanup runs any more. */
  readonly abortSignal: AbortSignal;
  /** Aborted when the job is canceled gracefully; its reason says who asked and what to say. */
  readonly cancelSignal?: AbortSignal;
}
