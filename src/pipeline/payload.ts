import type { Artifact, Cache, Dependency, JobResponse, JobVariable } from "../protocol/types.ts";
import { inheritedGlobals, type JobDefinition, type VariableDefinition } from "./definitions.ts";
import type { GitFacts } from "./git-facts.ts";
import { environmentVariables } from "./environment.ts";
import { expandKnown } from "./expand-known.ts";
import { expandNested } from "./nested-expansion.ts";
import { predefinedVariables, type LocalPipeline, type LocalProject } from "./predefined.ts";

/** The failure reasons a local run accepts: all of GitLab Runner's. */
const FAILURE_REASONS = [
  "unknown_failure", "script_failure", "runner_system_failure", "job_execution_timeout", "image_pull_failure",
  "configuration_error", "job_canceled",
];

const DEFAULT_TIMEOUT_SECONDS = 3600;

/** Everything outside the job itself that its payload is made from. */
export interface PayloadContext {
  readonly git: GitFacts;
  readonly project: LocalProject;
  readonly pipeline: LocalPipeline;
  /** The file's top-level `variables:` (each job takes those its `inherit:variables` allows). */
  readonly globalVariables: readonly VariableDefinition[];
  /** The matched `workflow:rules` rule's variables. */
  readonly workflowVariables?: readonly VariableDefinition[];
  /** Project variables (variables and secrets files): above the file's and dotenv's, below pipeline variables. */
  readonly projectVariables?: readonly VariableDefinition[];
  /** `--variable KEY=VALUE`: pipeline variables, which beat everything else. */
  readonly pipelineVariables: readonly VariableDefinition[];
  /** The hash of `cache:key:files`, or undefined when none of the files exists. */
  readonly hashFiles?: (files: readonly string[]) => string | undefined;
}

/** What a job receives from the jobs before it: their artifacts and their dotenv variables. */
export interface Received {
  readonly dependencies: readonly Dependency[];
  readonly dotenv: readonly { readonly key: string; readonly value: string }[];
}

const REPORT_FORMATS: Record<string, { name: string; format: "gzip" | "raw" | "zip" }> = {
  dotenv: { name: ".env", format: "gzip" }, junit: { name: "junit.xml", format: "gzip" },
  metrics: { name: "metrics.txt", format: "gzip" }, lsif: { name: "lsif.json", format: "zip" },
};

function artifactsOf(job: JobDefinition): Artifact[] {
  const a = job.artifacts;
  if (!a) return [];
  const archive: Artifact[] = a.paths.length > 0 || a.untracked
    ? [{
        name: a.name ?? "artifacts", paths: a.paths, ...(a.exclude.length > 0 ? { exclude: a.exclude } : {}),
        ...(a.untracked ? { untracked: true } : {}), when: a.when, ...(a.expireIn ? { expire_in: a.expireIn } : {}),
        artifact_type: "archive", artifact_format: "zip",
      }]
    : [];
  const reports: Artifact[] = Object.entries(a.reports).map(([type, paths]) => ({
    name: REPORT_FORMATS[type]?.name ?? `gl-${type}-report.json`, paths, when: "always",
    ...(a.expireIn ? { expire_in: a.expireIn } : {}), artifact_type: type, artifact_format: REPORT_FORMATS[type]?.format ?? "raw",
  }));
  return [...archive, ...reports];
}

/** GitLab's cache keys (docs/pipeline.md §8.9): `key:files` hashed, `-protected` or `-non_protected` appended. */
function cachesOf(job: JobDefinition, ctx: PayloadContext): Cache[] {
  const suffix = ctx.pipeline.protectedRef ? "-protected" : "-non_protected";
  return (job.cache ?? []).map((c) => {
    let key: string;
    if (typeof c.key === "string") key = c.key;
    else {
      const hash = ctx.hashFiles?.(c.key.files);
      key = [c.key.prefix, hash ?? "default"].filter(Boolean).join("-");
    }
    return {
      key: `${key}${suffix}`, paths: c.paths, policy: c.policy, when: c.when,
      ...(c.untracked ? { untracked: true } : {}),
      ...(c.fallbackKeys.length > 0 ? { fallback_keys: c.fallbackKeys.map((k) => `${k}${suffix}`) } : {}),
    };
  });
}

/**
 * The job as GitLab would send it to a runner: the same {@link JobResponse} a coordinator answers
 * `POST /jobs/request` with, so that a local run takes the same road as a remote one.
 */
export function toJobPayload(job: JobDefinition, jobId: number, ctx: PayloadContext, received: Received = { dependencies: [], dotenv: [] }): JobResponse {
  const variables = jobVariables(job, jobId, ctx, received);
  const token = `local-job-token-${jobId}`;
  const timeout = job.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  return {
    id: jobId,
    token,
    allow_git_fetch: true,
    job_info: {
      id: jobId, name: job.name, stage: job.stage, project_id: projectIdOf(ctx), project_name: ctx.project.name,
      project_full_path: ctx.project.path, pipeline_id: ctx.pipeline.id,
    },
    git_info: {
      repo_url: ctx.git.root, ref: ctx.git.ref, sha: ctx.git.sha,
      before_sha: "0000000000000000000000000000000000000000", ref_type: ctx.git.refType,
      refspecs: [], depth: 0, repo_object_format: "sha1", protected: ctx.pipeline.protectedRef === true,
    },
    runner_info: { timeout },
    variables,
    steps: [
      { name: "script", script: [...job.beforeScript, ...job.script], timeout, when: "on_success", allow_failure: job.allowFailure },
      ...(job.afterScript.length > 0
        ? [{ name: "after_script" as const, script: job.afterScript, timeout, when: "always" as const, allow_failure: true }]
        : []),
    ],
    image: job.image ? { ...job.image } : null,
    services: (job.services ?? []).map((service) => ({ ...service })),
    ...(job.hooks ? { hooks: job.hooks } : {}),
    artifacts: artifactsOf(job),
    cache: cachesOf(job, ctx),
    dependencies: [...received.dependencies],
    features: { trace_sections: true, token_mask_prefixes: [], failure_reasons: FAILURE_REASONS },
  };
}

/**
 * The job's variables in GitLab's order of precedence: predefined, the file's global (as
 * `inherit:variables` allows) and workflow ones, the job's, dotenv of the jobs it depends on,
 * project variables (secrets masked, as files unless `file: false`), pipeline variables; nested
 * references expanded as GitLab expands them, CI_ENVIRONMENT_* among the predefined.
 */
function jobVariables(job: JobDefinition, jobId: number, ctx: PayloadContext, received: Received): JobVariable[] {
  const predefined = predefinedVariables({
    git: ctx.git, project: ctx.project, pipeline: ctx.pipeline,
    job: {
      id: jobId, name: job.name, stage: job.stage,
      ...(job.image ? { image: job.image.name } : {}), ...(job.parallel ? { parallel: job.parallel } : {}),
    },
  });
  const toVariable = (v: VariableDefinition): JobVariable => ({
    key: v.key, value: v.value, public: true, masked: v.masked === true, ...(v.raw ? { raw: true } : {}), ...(v.file ? { file: true } : {}),
  });
  const predefinedList = (vars: Record<string, string>) => Object.entries(vars).map(([key, value]) => ({ key, value, public: true, masked: false }));
  // A job's `secrets:` are its project variables of those names, as files unless `file: false`.
  const secretAsFile = new Map((job.secrets ?? []).map((s) => [s.name, s.file]));
  const projectVariable = (v: VariableDefinition): JobVariable => {
    const file = secretAsFile.get(v.key);
    return file === undefined ? toVariable(v) : { ...toVariable(v), masked: true, ...(file ? { file: true } : {}) };
  };
  const defined = [
    ...inheritedGlobals(job, ctx.globalVariables).map(toVariable),
    ...(ctx.workflowVariables ?? []).map(toVariable),
    ...job.variables.map(toVariable),
    // dotenv variables of the jobs it depends on: above the file's, below project variables (docs/pipeline.md §5.1).
    ...received.dotenv.map((v) => ({ key: v.key, value: v.value, public: true, masked: false, raw: true })),
    ...(ctx.projectVariables ?? []).map(projectVariable),
    ...ctx.pipelineVariables.map(toVariable),
  ];
  const variables = expandNested([...predefinedList(predefined), ...defined], job.name);
  if (!job.environment) return variables;
  // CI_ENVIRONMENT_* are predefined job variables whose name and url are expanded with the others.
  const known = new Map(variables.map((v) => [v.key, v.value]));
  const expand = (text: string) => expandKnown(text, (name) => known.get(name));
  return expandNested([...predefinedList({ ...predefined, ...environmentVariables(job.environment, expand) }), ...defined], job.name);
}

/**
 * The project's GitLab id: 0 locally, unless a pipeline variable `CI_PROJECT_ID` gives the real one
 * (`-v CI_PROJECT_ID=42`), so that a shared cache's objects (`…/project/<id>/<key>`) are the
 * fleet's own.
 */
function projectIdOf(ctx: PayloadContext): number {
  const given = ctx.pipelineVariables.find((v) => v.key === "CI_PROJECT_ID")?.value;
  return given !== undefined && /^\d+$/.test(given) ? Number(given) : 0;
}
