import { inheritedGlobals, type JobDefinition, type VariableDefinition } from "./definitions.ts";
import { expandKnown } from "./expand-known.ts";
import type { GitFacts } from "./git-facts.ts";
import { predefinedVariables, type LocalPipeline, type LocalProject } from "./predefined.ts";

/** Where the variables that rules see come from in a local run. */
export interface RuleVariableSources {
  readonly git: GitFacts;
  readonly project: LocalProject;
  readonly pipeline: LocalPipeline;
  /** The file's top-level `variables:` (none for `include:rules`, which cannot see them). */
  readonly globals: readonly VariableDefinition[];
  readonly projectVariables: readonly VariableDefinition[];
  readonly pipelineVariables: readonly VariableDefinition[];
}

/**
 * The variables `rules:if` sees (docs/pipeline.md §6.1, §6.6), unexpanded as in GitLab's rule
 * context: the predefined ones (without `CI_JOB_*` for the workflow), the globals the job inherits,
 * the workflow rule's, the job's own, then project and pipeline variables.
 */
export function ruleVariables(
  sources: RuleVariableSources,
  job: JobDefinition | undefined,
  workflow: readonly VariableDefinition[],
): Record<string, string> {
  const predefined = predefinedVariables({
    git: sources.git, project: sources.project, pipeline: sources.pipeline,
    job: { id: 0, name: job?.name ?? "", stage: job?.stage ?? "", ...(job?.parallel ? { parallel: job.parallel } : {}) },
  });
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(predefined)) {
    if (job || !(key.startsWith("CI_JOB_") || key.startsWith("CI_BUILD_"))) vars[key] = value;
  }
  const globals = job ? inheritedGlobals(job, sources.globals) : sources.globals;
  for (const v of [...globals, ...workflow, ...(job?.variables ?? []), ...sources.projectVariables, ...sources.pipelineVariables]) {
    vars[v.key] = v.value;
  }
  // Simulating a merge request pipeline (--variable CI_PIPELINE_SOURCE=merge_request_event): GitLab
  // sets no CI_COMMIT_BRANCH there.
  if (vars.CI_PIPELINE_SOURCE === "merge_request_event" && !sources.pipelineVariables.some((v) => v.key === "CI_COMMIT_BRANCH")) {
    delete vars.CI_COMMIT_BRANCH;
  }
  return vars;
}

/**
 * `workflow:name` as CI_PIPELINE_NAME (docs/pipeline.md §6.6): expanded with the pipeline's
 * variables (the matched workflow rule's included) and trimmed; undefined when there is none.
 */
export function pipelineName(
  name: string | undefined,
  sources: RuleVariableSources,
  workflow: readonly VariableDefinition[],
): string | undefined {
  if (name === undefined) return undefined;
  const known = ruleVariables(sources, undefined, workflow);
  return expandKnown(name, (key) => known[key]).trim() || undefined;
}
