/**
 * GitLab's job payload (the 201 body of `POST /api/v4/jobs/request`), field names as on the wire.
 *
 * Both the coordinator client and the local planner produce a {@link JobResponse}; the step pipeline
 * only ever consumes this type. See docs/protocol.md §4; tests/fake-gitlab builds realistic ones.
 */

/**
 * A failure reason GitLab Runner sends in the final `PUT /jobs/:id` (common/network.go
 * allFailureReasons). `configuration_error` (the job's own configuration: a refused image or pull
 * policy, an unknown submodule strategy) is GitLab Runner's and goes to GitLab as `script_failure`;
 * `job_canceled` is internal to the runner. A runner-side problem (its executor's settings) is a
 * `runner_system_failure`, as a plain error is in GitLab Runner's setTraceStatus.
 */
export type FailureReason =
  | "script_failure"
  | "runner_system_failure"
  | "job_execution_timeout"
  | "image_pull_failure"
  | "unknown_failure"
  | "configuration_error"
  | "job_canceled";

/** One job variable. Rails omits `file` and `raw` when false. */
export interface JobVariable {
  readonly key: string;
  readonly value: string;
  readonly public?: boolean;
  readonly masked?: boolean;
  readonly file?: boolean;
  readonly raw?: boolean;
}

export interface JobInfo {
  readonly name: string;
  readonly stage: string;
  readonly project_id: number;
  readonly project_name: string;
  readonly id?: number;
  readonly pipeline_id?: number;
  readonly project_full_path?: string;
  readonly namespace_id?: number;
  readonly root_namespace_id?: number;
  readonly organization_id?: number;
  readonly instance_id?: number;
  readonly instance_uuid?: string;
  readonly user_id?: number;
  readonly scoped_user_id?: number | null;
  readonly time_in_queue_seconds?: number;
  readonly project_jobs_running_on_instance_runners_count?: string;
  readonly queue_size?: number;
  readonly queue_depth?: number;
}

export interface GitInfo {
  readonly repo_url: string;
  readonly ref: string;
  readonly sha: string;
  readonly before_sha: string;
  /** Empty when GitLab sent none (Go's zero value). */
  readonly ref_type: "branch" | "tag" | "";
  readonly refspecs: readonly string[];
  readonly depth: number;
  readonly repo_object_format?: "sha1" | "sha256" | "";
  readonly protected?: boolean | null;
}

export interface RunnerInfo {
  readonly timeout: number;
  readonly runner_session_url?: string | null;
  readonly uuid?: string;
}

/**
 * The name of a job step; every non-after_script step becomes build stage `step_<name>`. GitLab
 * sends these; a name it adds later runs as `step_<name>` too, as in GitLab Runner.
 */
export type StepName = "script" | "after_script" | "release" | "run" | (string & {});

export interface JobStep {
  readonly name: StepName;
  readonly script: readonly string[];
  readonly timeout: number;
  readonly when: "on_success" | "on_failure" | "always";
  readonly allow_failure: boolean;
}

export type PullPolicy = "always" | "if-not-present" | "never";

export interface ImageExecutorOptions {
  readonly docker?: { readonly platform?: string; readonly user?: string | number };
  readonly kubernetes?: { readonly user?: string | number };
}

export interface Image {
  readonly name: string;
  readonly alias?: string;
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[] | null;
  readonly ports?: readonly { readonly number: number; readonly protocol?: string; readonly name?: string }[];
  readonly pull_policy?: readonly PullPolicy[];
  readonly executor_opts?: ImageExecutorOptions;
  readonly variables?: readonly { readonly key: string; readonly value: string }[];
}

export type ArtifactWhen = "on_success" | "on_failure" | "always";

export interface Artifact {
  readonly name: string;
  readonly untracked?: boolean;
  readonly paths: readonly string[];
  readonly exclude?: readonly string[];
  readonly when: ArtifactWhen;
  readonly expire_in?: string;
  readonly artifact_type: string;
  readonly artifact_format: "zip" | "gzip" | "raw";
}

export interface Cache {
  readonly key: string;
  readonly untracked?: boolean;
  readonly policy: string;
  readonly paths: readonly string[];
  readonly when: ArtifactWhen;
  readonly fallback_keys?: readonly string[];
}

export interface Credentials {
  readonly type: string;
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

export interface Dependency {
  readonly id: number;
  readonly name: string;
  readonly token: string;
  readonly artifacts_file?: { readonly filename: string; readonly size: number };
}

export interface JobFeatures {
  readonly trace_sections: boolean;
  readonly token_mask_prefixes?: readonly string[];
  readonly failure_reasons?: readonly string[];
  readonly tracing?: unknown;
}

export interface Hook {
  readonly name: "pre_get_sources_script" | "post_get_sources_script";
  readonly script: readonly string[];
}

/** The job as GitLab hands it to a runner. Unknown keys are ignored, as Go's JSON decoder does. */
export interface JobResponse {
  readonly id: number;
  readonly token: string;
  readonly allow_git_fetch: boolean;
  readonly job_info: JobInfo;
  readonly git_info: GitInfo;
  readonly runner_info: RunnerInfo;
  readonly variables: readonly JobVariable[];
  readonly steps: readonly JobStep[];
  readonly image?: Image | null;
  readonly services?: readonly Image[] | null;
  readonly artifacts?: readonly Artifact[] | null;
  readonly cache?: readonly Cache[] | null;
  readonly credentials?: readonly Credentials[] | null;
  readonly dependencies?: readonly Dependency[] | null;
  readonly features: JobFeatures;
  readonly secrets?: Readonly<Record<string, unknown>> | null;
  readonly hooks?: readonly Hook[] | null;
  readonly inputs?: readonly unknown[] | null;
  readonly run?: string;
  readonly policy_options?: Readonly<Record<string, unknown>> | null;
  readonly suspend_options?: Readonly<Record<string, unknown>> | null;
}
