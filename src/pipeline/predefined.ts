import { basename } from "node:path";
import type { GitFacts } from "./git-facts.ts";
import { ZERO_SHA } from "./git-facts.ts";
import { slugify } from "./slug.ts";

/** Identifiers of one local pipeline run. */
export interface LocalPipeline {
  readonly id: number;
  readonly createdAt: string;
  readonly configPath: string;
  /** `workflow:name`, expanded (CI_PIPELINE_NAME); none when empty. */
  readonly name?: string;
  /**
   * Whether the ref counts as protected (`runner exec --protected`): GitLab's protection is a project
   * setting the local run cannot see, so a local ref is not protected unless told.
   */
  readonly protectedRef?: boolean;
}

/** The project a local run belongs to, derived from the git remote or the directory name. */
export interface LocalProject {
  readonly path: string;
  readonly name: string;
  readonly namespace: string;
  readonly serverUrl: string;
}

/** `group/sub/project` from `git@host:group/sub/project.git` or an https remote; else the folder name. */
export function localProject(git: GitFacts): LocalProject {
  const remote = git.remoteUrl ?? "";
  const match = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^:/]+)(?::\d+)?[:/](.+?)(?:\.git)?\/?$/.exec(remote);
  const path = match?.[2] ?? `local/${basename(git.root)}`;
  const host = match?.[1];
  const parts = path.split("/");
  return {
    path,
    name: parts[parts.length - 1] ?? path,
    namespace: parts.slice(0, -1).join("/") || "local",
    serverUrl: host ? `https://${host}` : "https://gitlab.example.com",
  };
}

/** What of a job its predefined variables tell. */
interface PredefinedJob {
  readonly id: number;
  readonly name: string;
  readonly stage: string;
  readonly image?: string;
  readonly parallel?: { readonly index: number; readonly total: number; readonly group: string };
}

/**
 * The predefined variables GitLab would give this job (docs/pipeline.md §5.4), with local values.
 * The runner adds its own (`CI_PROJECT_DIR`, `CI_BUILDS_DIR`, …) when it runs the job.
 */
export function predefinedVariables(input: {
  git: GitFacts;
  project: LocalProject;
  pipeline: LocalPipeline;
  job: PredefinedJob;
}): Record<string, string> {
  const { git, project, pipeline, job } = input;
  const vars: Record<string, string> = {
    CI: "true",
    GITLAB_CI: "true",
    RUNNER_LOCAL: "true",
    ...serverVariables(project),
    ...projectVariables(project, pipeline, git),
    ...commitVariables(git, pipeline),
    ...pipelineVariables(project, pipeline),
    ...jobVariables(project, job),
    GITLAB_USER_NAME: git.userName ?? git.authorName,
    GITLAB_USER_EMAIL: git.userEmail ?? git.authorEmail,
    GITLAB_USER_LOGIN: (git.userEmail ?? git.authorEmail).split("@")[0] ?? "",
    GITLAB_USER_ID: "0",
  };
  if (git.refType === "tag") vars.CI_COMMIT_TAG = git.ref;
  else vars.CI_COMMIT_BRANCH = git.ref;
  if (job.image) vars.CI_JOB_IMAGE = job.image;
  return vars;
}

function serverVariables(project: LocalProject): Record<string, string> {
  return {
    CI_SERVER_URL: project.serverUrl,
    CI_SERVER_HOST: new URL(project.serverUrl).hostname,
    CI_SERVER_FQDN: new URL(project.serverUrl).host,
    CI_SERVER_PROTOCOL: "https",
    CI_SERVER_PORT: "443",
    CI_SERVER_NAME: "GitLab",
    CI_API_V4_URL: `${project.serverUrl}/api/v4`,
  };
}

function projectVariables(project: LocalProject, pipeline: LocalPipeline, git: GitFacts): Record<string, string> {
  return {
    CI_PROJECT_ID: "0",
    CI_PROJECT_NAME: project.name,
    CI_PROJECT_TITLE: project.name,
    CI_PROJECT_PATH: project.path,
    CI_PROJECT_PATH_SLUG: slugify(project.path),
    CI_PROJECT_NAMESPACE: project.namespace,
    CI_PROJECT_ROOT_NAMESPACE: project.namespace.split("/")[0] ?? project.namespace,
    CI_PROJECT_URL: `${project.serverUrl}/${project.path}`,
    CI_PROJECT_VISIBILITY: "private",
    CI_CONFIG_PATH: pipeline.configPath,
    CI_DEFAULT_BRANCH: git.defaultBranch ?? (git.refType === "branch" ? git.ref : "main"),
  };
}

function commitVariables(git: GitFacts, pipeline: LocalPipeline): Record<string, string> {
  const [title = "", ...body] = git.message.split("\n");
  return {
    CI_COMMIT_SHA: git.sha,
    CI_COMMIT_SHORT_SHA: git.sha.slice(0, 8),
    CI_COMMIT_BEFORE_SHA: ZERO_SHA,
    CI_COMMIT_REF_NAME: git.ref,
    CI_COMMIT_REF_SLUG: slugify(git.ref),
    CI_COMMIT_REF_PROTECTED: pipeline.protectedRef ? "true" : "false",
    CI_COMMIT_MESSAGE: git.message,
    CI_COMMIT_TITLE: title,
    CI_COMMIT_DESCRIPTION: title.length < 100 ? body.join("\n").replace(/^\n+/, "") : git.message,
    CI_COMMIT_AUTHOR: `${git.authorName} <${git.authorEmail}>`,
    CI_COMMIT_TIMESTAMP: git.timestamp,
  };
}

function pipelineVariables(project: LocalProject, pipeline: LocalPipeline): Record<string, string> {
  return {
    CI_PIPELINE_ID: String(pipeline.id),
    CI_PIPELINE_IID: String(pipeline.id),
    CI_PIPELINE_SOURCE: "push",
    CI_PIPELINE_CREATED_AT: pipeline.createdAt,
    ...(pipeline.name ? { CI_PIPELINE_NAME: pipeline.name } : {}),
    CI_PIPELINE_URL: `${project.serverUrl}/${project.path}/-/pipelines/${pipeline.id}`,
  };
}

function jobVariables(project: LocalProject, job: PredefinedJob): Record<string, string> {
  return {
    CI_JOB_ID: String(job.id),
    CI_JOB_NAME: job.name,
    CI_JOB_NAME_SLUG: slugify(job.name),
    CI_JOB_GROUP_NAME: job.parallel?.group ?? job.name,
    CI_JOB_STAGE: job.stage,
    CI_JOB_URL: `${project.serverUrl}/${project.path}/-/jobs/${job.id}`,
    CI_JOB_STARTED_AT: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    CI_NODE_TOTAL: String(job.parallel?.total ?? 1),
    ...(job.parallel ? { CI_NODE_INDEX: String(job.parallel.index) } : {}),
  };
}
