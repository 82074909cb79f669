import { ConfigError } from "./config-error.ts";
import type { JobDefinition, Need, PipelineDefinition, VariableDefinition } from "./definitions.ts";
import { firstMatchingRule, type RuleContext } from "./rules.ts";
import { onlyExceptReason } from "./only-except.ts";

/** A job of this run, with what rules decided, and the jobs it waits for. */
export interface PlannedJob {
  readonly job: JobDefinition;
  readonly stageIndex: number;
  /** The jobs that must end before this one starts: its needs, or every job of the earlier stages. */
  readonly after: readonly string[];
}

/** What a run will do: the jobs in it, and the ones left out with the reason. */
export interface Plan {
  readonly jobs: readonly PlannedJob[];
  readonly excluded: readonly { readonly job: string; readonly reason: string }[];
  /** Variables of the matched `workflow:rules` rule, for every job. */
  readonly workflowVariables: readonly VariableDefinition[];
}

/** A job name on the command line that the file does not define. */
export class UnknownJobError extends Error {
  override readonly name = "UnknownJobError";
}

/** What planning needs to evaluate rules: the variables `if:` sees for a job (or for the workflow). */
export interface PlanContext extends Omit<RuleContext, "variables"> {
  ruleVariables(job: JobDefinition | undefined, workflow: readonly VariableDefinition[]): Readonly<Record<string, string>>;
}

/**
 * Plans a run as GitLab creates a pipeline (gitlab-ci-yaml.md §1, §6): `workflow:rules` may refuse it;
 * each job's `rules` decide whether it is in, its `when`, `allow_failure`, extra variables and
 * `needs`; a needed job left out is an error unless optional. Named jobs run whatever their `when`
 * (their rules' attributes still apply); without names, `manual` jobs are left out.
 */
export function planRun(pipeline: PipelineDefinition, selected: readonly string[], ctx?: PlanContext): Plan {
  const byName = new Map(pipeline.jobs.map((j) => [j.name, j]));
  const groups = new Set(pipeline.jobs.flatMap((j) => (j.parallel ? [j.parallel.group] : [])));
  const missing = selected.filter((name) => !byName.has(name) && !groups.has(name));
  if (missing.length > 0) {
    const known = pipeline.jobs.map((j) => j.name).join(", ");
    throw new UnknownJobError(`Job ${missing.map((m) => `"${m}"`).join(", ")} is not defined in the pipeline; jobs are: ${known}`);
  }
  let workflowVariables: VariableDefinition[] = [];
  if (pipeline.workflow?.rules && ctx) {
    const rule = firstMatchingRule(pipeline.workflow.rules, { ...ctx, variables: ctx.ruleVariables(undefined, []) });
    if (!rule || rule.when === "never") throw new ConfigError("Pipeline filtered out by workflow rules.");
    workflowVariables = Object.entries(rule.variables ?? {}).map(([key, value]) => ({ key, value, raw: false }));
  }
  const excluded: { job: string; reason: string }[] = [];
  const included: JobDefinition[] = [];
  for (const definition of pipeline.jobs) {
    const named = selected.includes(definition.name) || (definition.parallel !== undefined && selected.includes(definition.parallel.group));
    if (selected.length > 0 && !named) continue;
    const job = ctx ? applyRules(definition, workflowVariables, ctx) : { job: definition };
    if ("reason" in job) {
      if (named) included.push(definition);
      else excluded.push({ job: definition.name, reason: job.reason });
      continue;
    }
    if (!named && job.job.when === "manual") {
      excluded.push({ job: definition.name, reason: "when: manual (name the job to run it)" });
      continue;
    }
    included.push(job.job);
  }
  const names = new Set(included.map((j) => j.name));
  if (selected.length === 0) {
    for (const job of included) {
      for (const need of job.needs ?? []) {
        if (!names.has(need.job) && !need.optional) {
          throw new ConfigError(
            `'${job.name}' job needs '${need.job}' job, but '${need.job}' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.`,
          );
        }
      }
    }
    if (!included.some((j) => j.stage !== ".pre" && j.stage !== ".post")) {
      throw new ConfigError("Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.");
    }
  }
  const stageOf = (job: JobDefinition) => pipeline.stages.indexOf(job.stage);
  const ordered = [...included].sort((a, b) => stageOf(a) - stageOf(b));
  const jobs = ordered.map((job) => ({
    job,
    stageIndex: stageOf(job),
    after: job.needs
      ? job.needs.map((n) => n.job).filter((n) => names.has(n))
      : ordered.filter((other) => stageOf(other) < stageOf(job)).map((other) => other.name),
  }));
  return { jobs, excluded, workflowVariables };
}

/** A job as its rules leave it, or why it is not in the pipeline. */
function applyRules(
  job: JobDefinition,
  workflow: readonly VariableDefinition[],
  ctx: PlanContext,
): { job: JobDefinition } | { reason: string } {
  if (!job.rules) {
    const reason = onlyExceptReason(job.only, job.except, { ...ctx, variables: ctx.ruleVariables(job, workflow) });
    return reason ? { reason } : { job };
  }
  const rule = firstMatchingRule(job.rules, { ...ctx, variables: ctx.ruleVariables(job, workflow) });
  if (!rule) return { reason: "no rule matched" };
  const when = rule.when ?? job.when;
  if (when === "never") return { reason: "rules: when: never" };
  const variables = [...job.variables, ...Object.entries(rule.variables ?? {}).map(([key, value]) => ({ key, value, raw: false }))];
  const needs: readonly Need[] | undefined = rule.needs
    ? rule.needs.map((name) => ({ job: name, optional: false, artifacts: true }))
    : job.needs;
  return {
    job: {
      ...job, variables,
      when: when as JobDefinition["when"],
      // A rule's manual is blocking (allow_failure false) unless the rule says otherwise.
      allowFailure: rule.allowFailure ?? (rule.when === "manual" ? false : job.allowFailure),
      ...(needs ? { needs } : {}),
    },
  };
}
