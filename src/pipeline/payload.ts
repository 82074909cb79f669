import type { JobResponse, JobVariable } from "../protocol/types.ts";
import type { JobDefinition, VariableDefinition } from "./definitions.ts";
import type { GitFacts } from "./git-facts.ts";
import { expandNested } from "./nested-expansion.ts";
import { predefinedVariables, type LocalPipeline, type LocalProject } from "./predefined.ts";

/** The failure reasons a local run accepts: all of GitLab Runner's. */
const FAILURE_REASONS = [
  "unknown_failure", "script_failure", "runner_system_failure", "job_execution_timeout", "image_pull_failure",
  "runner_configuration_error", "runner_external_dependency_failure", "runner_interrupted", "job_canceled",
];

const DEFAULT_TIMEOUT_SECONDS = 3600;

/** Everything outside the job itself that its payload is made from. */
export interface PayloadContext {
  readonly git: GitFacts;
  readonly project: LocalProject;
  readonly pipeline: LocalPipeline;
  readonly globalVariables: readonly VariableDefinition[];
  /** `--variable KEY=VALUE`: pipeline variables, which beat the file's. */
  readonly pipelineVariables: readonly VariableDefinition[];
}

/**
 * The job as GitLab would send it to a runner: the same {@link JobResponse} a coordinator answers
 * `POST /jobs/request` with, so that a local run takes the same road as a remote one.
 */
export function toJobPayload(job: JobDefinition, jobId: number, ctx: PayloadContext): JobResponse {
  const predefined = predefinedVariables({
    git: ctx.git, project: ctx.project, pipeline: ctx.pipeline,
    job: {
      id: jobId, name: job.name, stage: job.stage,
      ...(job.image ? { image: job.image.name } : {}), ...(job.parallel ? { parallel: job.parallel } : {}),
    },
  });
  const token = `local-job-token-${jobId}`;
  const toVariable = (v: VariableDefinition): JobVariable => ({
    key: v.key, value: v.value, public: true, masked: false, ...(v.raw ? { raw: true } : {}),
  });
  const variables = expandNested(
    [
      ...Object.entries(predefined).map(([key, value]) => ({ key, value, public: true, masked: false })),
      ...ctx.globalVariables.map(toVariable),
      ...job.variables.map(toVariable),
      ...ctx.pipelineVariables.map(toVariable),
    ],
    job.name,
  );
  const timeout = job.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  return {
    id: jobId,
    token,
    allow_git_fetch: true,
    job_info: {
      id: jobId, name: job.name, stage: job.stage, project_id: 0, project_name: ctx.project.name,
      project_full_path: ctx.project.path, pipeline_id: ctx.pipeline.id,
    },
    git_info: {
      repo_url: ctx.git.root, ref: ctx.git.ref, sha: ctx.git.sha,
      before_sha: "0000000000000000000000000000000000000000", ref_type: ctx.git.refType,
      refspecs: [], depth: 0, repo_object_format: "sha1", protected: false,
    },
    runner_info: { timeout },
    variables,
    steps: [
      { name: "script", script: [...job.beforeScript, ...job.script], timeout, when: "on_success", allow_failure: job.allowFailure },
      ...(job.afterScript.length > 0
        ? [{ name: "after_script" as const, script: job.afterScript, timeout, when: "always" as const, allow_failure: true }]
        : []),
    ],
    image: job.image ? { name: job.image.name, ...(job.image.entrypoint ? { entrypoint: job.image.entrypoint } : {}) } : null,
    services: [],
    artifacts: [],
    cache: [],
    dependencies: [],
    features: { trace_sections: true, token_mask_prefixes: [], failure_reasons: FAILURE_REASONS },
  };
}
