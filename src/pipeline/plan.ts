import { ConfigError } from "./config-error.ts";
import type { JobDefinition, Need, PipelineDefinition, VariableDefinition } from "./definitions.ts";
import { firstMatchingRule, type Rule, type RuleContext } from "./rules.ts";
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
  /** Manual jobs of the pipeline nobody played: they stay `manual`, as in GitLab (a blocking one blocks the pipeline). */
  readonly unplayed: readonly JobDefinition[];
}

/** A job name on the command line that the file does not define. */
export class UnknownJobError extends Error {
  override readonly name = "UnknownJobError";
}

/** What planning needs to evaluate rules: the variables `if:` sees for a job (or for the workflow). */
export interface PlanContext extends Omit<RuleContext, "variables"> {
  ruleVariables(job: JobDefinition | undefined, workflow: readonly VariableDefinition[]): Readonly<Record<string, string>>;
}

/** Which jobs a run is made of. */
export interface Selection {
  /** Jobs named on the command line (a parallel job's name means its instances); none: the pipeline. */
  readonly jobs?: readonly string[];
  /** `--needs`: the named jobs and everything they wait for, as the pipeline would plan them. */
  readonly withNeeds?: boolean;
  /** `--manual JOB`: manual jobs played in this run. */
  readonly manual?: readonly string[];
  /** How rules are evaluated; without it every job is in, as written. */
  readonly context?: PlanContext;
}

/**
 * Plans a run as GitLab creates a pipeline (gitlab-ci-yaml.md §1, §6, §8.3): `workflow:rules` may
 * refuse it; each job's `rules` decide whether it is in, its `when`, `allow_failure`, extra variables
 * and `needs`; a needed job left out is an error unless optional. Named jobs run whatever their
 * `when` (their rules' attributes still apply). A manual job not played (`--manual`) is left out, and
 * so are the jobs that need it, and — when it blocks (`allow_failure: false`) — the later stages.
 * `trigger:` jobs are left out: downstream pipelines do not run locally.
 */
export function planRun(pipeline: PipelineDefinition, selection: Selection = {}): Plan {
  const { jobs: selected = [], manual = [], context: ctx } = selection;
  const byName = new Map(pipeline.jobs.map((j) => [j.name, j]));
  const groups = new Set(pipeline.jobs.flatMap((j) => (j.parallel ? [j.parallel.group] : [])));
  const missing = [...selected, ...manual].filter((name) => !byName.has(name) && !groups.has(name));
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
  const isIn = (names: readonly string[], job: JobDefinition) => names.includes(job.name) || (job.parallel !== undefined && names.includes(job.parallel.group));
  const subset = selected.length > 0 && !selection.withNeeds;
  const excluded: { job: string; reason: string }[] = [];
  const included: JobDefinition[] = [];
  const unplayed: JobDefinition[] = [];
  const triggers = new Set<string>();
  for (const definition of pipeline.jobs) {
    const named = isIn(selected, definition);
    if (subset && !named) continue;
    if (definition.trigger) {
      triggers.add(definition.name);
      excluded.push({ job: definition.name, reason: "trigger: downstream pipelines do not run locally" });
      continue;
    }
    const job = ctx ? applyRules(definition, workflowVariables, ctx) : { job: definition };
    if ("reason" in job) {
      if (named) included.push(definition);
      else excluded.push({ job: definition.name, reason: job.reason });
      continue;
    }
    if (!named && job.job.when === "manual" && !isIn(manual, definition)) {
      unplayed.push(job.job);
      excluded.push({ job: definition.name, reason: `when: manual (--manual "${definition.name}" plays it)` });
      continue;
    }
    included.push(job.job);
  }
  if (!subset) {
    const present = new Set([...included, ...unplayed].map((j) => j.name));
    for (const job of included) {
      for (const need of job.needs ?? []) {
        if (!present.has(need.job) && !need.optional && !triggers.has(need.job)) {
          throw new ConfigError(
            `'${job.name}' job needs '${need.job}' job, but '${need.job}' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.`,
          );
        }
      }
    }
    if (!included.some((j) => j.stage !== ".pre" && j.stage !== ".post") && unplayed.length === 0) {
      throw new ConfigError("Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.");
    }
  }
  const stageIndex = new Map(pipeline.stages.map((stage, i) => [stage, i]));
  const stageOf = (job: JobDefinition) => stageIndex.get(job.stage) ?? -1;
  const waiting = subset ? [] : waitingOnManual(included, unplayed, stageOf);
  excluded.push(...waiting);
  const runnable = included.filter((j) => !waiting.some((w) => w.job === j.name));
  const names = new Set(runnable.map((j) => j.name));
  const ordered = [...runnable].sort((a, b) => stageOf(a) - stageOf(b));
  // A stage job waits for every job of the earlier stages: one list per stage, shared by its jobs.
  const earlier = new Map<number, readonly string[]>();
  const seen: string[] = [];
  for (const job of ordered) {
    if (!earlier.has(stageOf(job))) earlier.set(stageOf(job), [...seen]);
    seen.push(job.name);
  }
  let jobs: PlannedJob[] = ordered.map((job) => ({
    job,
    stageIndex: stageOf(job),
    after: job.needs ? job.needs.map((n) => n.job).filter((n) => names.has(n)) : earlier.get(stageOf(job))!,
  }));
  if (selection.withNeeds) jobs = withPredecessors(jobs, (job) => isIn(selected, job));
  return { jobs, excluded: selection.withNeeds ? [] : excluded, workflowVariables, unplayed: subset || selection.withNeeds ? [] : unplayed };
}

/**
 * Jobs that cannot run because a manual job was not played (§8.3, §9.2): those that need it (or a job
 * left out for this reason), and every later-stage job when it is blocking (`allow_failure: false`).
 */
function waitingOnManual(
  included: readonly JobDefinition[],
  unplayed: readonly JobDefinition[],
  stageOf: (job: JobDefinition) => number,
): { job: string; reason: string }[] {
  const waiting: { job: string; reason: string }[] = [];
  const blocked = new Map(unplayed.map((j) => [j.name, j.name]));
  const blocking = unplayed.filter((j) => !j.allowFailure);
  for (const job of [...included].sort((a, b) => stageOf(a) - stageOf(b))) {
    const manual = job.needs
      ? job.needs.map((n) => blocked.get(n.job)).find((m) => m !== undefined)
      : blocking.find((m) => stageOf(m) < stageOf(job))?.name;
    if (manual === undefined) continue;
    blocked.set(job.name, manual);
    waiting.push({ job: job.name, reason: `waits for the manual job "${manual}" (--manual "${manual}" plays it)` });
  }
  return waiting;
}

/** The jobs selected and, transitively, everything they wait for. */
function withPredecessors(jobs: readonly PlannedJob[], selected: (job: JobDefinition) => boolean): PlannedJob[] {
  const byName = new Map(jobs.map((p) => [p.job.name, p]));
  const keep = new Set<string>();
  const visit = (name: string) => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const before of byName.get(name)?.after ?? []) visit(before);
  };
  for (const p of jobs) if (selected(p.job)) visit(p.job.name);
  return jobs.filter((p) => keep.has(p.job.name));
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
  if (when === "never") return { reason: `rules: when: never (${describeRule(rule, job.rules.indexOf(rule) + 1)})` };
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
      ...(rule.startInSeconds !== undefined ? { startInSeconds: rule.startInSeconds } : {}),
      ...(needs ? { needs } : {}),
    },
  };
}

/** `rule 2: if: $CI_COMMIT_TAG`: which rule decided, by its number and clauses. */
function describeRule(rule: Rule, number: number): string {
  const clauses = [
    ...(rule.if !== undefined ? [`if: ${rule.if}`] : []),
    ...(rule.changes ? [`changes: ${rule.changes.paths.join(", ")}`] : []),
    ...(rule.exists ? [`exists: ${rule.exists.join(", ")}`] : []),
  ];
  return `rule ${number}${clauses.length > 0 ? `: ${clauses.join("; ")}` : ""}`;
}
