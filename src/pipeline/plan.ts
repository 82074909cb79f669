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

/**
 * `workflow:rules` keep the pipeline from being created (GitLab: `Pipeline filtered out by workflow
 * rules.`): a valid file all the same. `why` says which rule decided, `jobs` what would have run.
 */
export class PipelineFilteredError extends ConfigError {
  constructor(
    readonly why: string,
    readonly jobs: readonly string[],
  ) {
    super("Pipeline filtered out by workflow rules.");
  }
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
 * Plans a run as GitLab creates a pipeline (docs/pipeline.md §1, §6, §8.3): `workflow:rules` may
 * refuse it; each job's `rules` decide whether it is in, its `when`, `allow_failure`, extra variables
 * and `needs`; a needed job left out is an error unless optional. Named jobs run whatever their
 * `when` (their rules' attributes still apply). A manual job not played (`--manual`) is left out, and
 * so are the jobs that need it, and — when it blocks (`allow_failure: false`) — the later stages.
 * `trigger:` jobs are left out: downstream pipelines do not run locally.
 */
export function planRun(pipeline: PipelineDefinition, selection: Selection = {}): Plan {
  const { jobs: selected = [], manual = [], context: ctx } = selection;
  checkSelection(pipeline, [...selected, ...manual]);
  const workflowVariables = workflowVariablesOf(pipeline, ctx);
  const subset = selected.length > 0 && !selection.withNeeds;
  const sorted = sortJobs(pipeline, { selected, manual, subset, workflowVariables, ...(ctx ? { ctx } : {}) });
  if (!subset) checkCreatable(sorted);
  const stageIndex = new Map(pipeline.stages.map((stage, i) => [stage, i]));
  const stageOf = (job: JobDefinition) => stageIndex.get(job.stage) ?? -1;
  const waiting = subset ? [] : waitingOnManual(sorted.included, sorted.unplayed, stageOf);
  const runnable = sorted.included.filter((j) => !waiting.some((w) => w.job === j.name));
  let jobs = orderJobs(runnable, stageOf);
  if (selection.withNeeds) jobs = withPredecessors(jobs, (job) => isNamed(selected, job));
  return {
    jobs, workflowVariables,
    excluded: selection.withNeeds ? [] : [...sorted.excluded, ...waiting],
    unplayed: subset || selection.withNeeds ? [] : sorted.unplayed,
  };
}

/** Whether `job` is one of `names` (a parallel job's name stands for all its instances). */
function isNamed(names: readonly string[], job: JobDefinition): boolean {
  return names.includes(job.name) || (job.parallel !== undefined && names.includes(job.parallel.group));
}

/** Names on the command line must be jobs (or parallel groups) of the file. */
function checkSelection(pipeline: PipelineDefinition, names: readonly string[]): void {
  const known = new Set(pipeline.jobs.flatMap((j) => [j.name, ...(j.parallel ? [j.parallel.group] : [])]));
  const missing = names.filter((name) => !known.has(name));
  if (missing.length > 0) {
    const jobs = pipeline.jobs.map((j) => j.name).join(", ");
    throw new UnknownJobError(`Job ${missing.map((m) => `"${m}"`).join(", ")} is not defined in the pipeline; jobs are: ${jobs}`);
  }
}

/** `workflow:rules` (docs/pipeline.md §6.6): the matched rule's variables, or GitLab's refusal. */
function workflowVariablesOf(pipeline: PipelineDefinition, ctx: PlanContext | undefined): VariableDefinition[] {
  if (!pipeline.workflow?.rules || !ctx) return [];
  const rules = pipeline.workflow.rules;
  const rule = firstMatchingRule(rules, { ...ctx, variables: ctx.ruleVariables(undefined, []) });
  if (!rule || rule.when === "never") {
    const why = !rule
      ? `no rule of workflow:rules matched (${rules.length} rule${rules.length === 1 ? "" : "s"})`
      : `workflow:rules rule ${rules.indexOf(rule) + 1} matched with when: never${rule.if !== undefined ? ` (if: ${rule.if})` : ""}`;
    throw new PipelineFilteredError(why, pipeline.jobs.map((j) => j.name));
  }
  return Object.entries(rule.variables ?? {}).map(([key, value]) => ({ key, value, raw: false }));
}

interface SortedJobs {
  readonly included: JobDefinition[];
  readonly excluded: { job: string; reason: string }[];
  /** Manual jobs nobody played. */
  readonly unplayed: JobDefinition[];
  readonly triggers: ReadonlySet<string>;
}

/** Each job in (as its rules leave it) or out (with the reason); trigger jobs and unplayed manual jobs out. */
function sortJobs(
  pipeline: PipelineDefinition,
  options: { selected: readonly string[]; manual: readonly string[]; subset: boolean; workflowVariables: readonly VariableDefinition[]; ctx?: PlanContext },
): SortedJobs {
  const sorted = { included: [] as JobDefinition[], excluded: [] as { job: string; reason: string }[], unplayed: [] as JobDefinition[], triggers: new Set<string>() };
  for (const definition of pipeline.jobs) {
    const named = isNamed(options.selected, definition);
    if (options.subset && !named) continue;
    if (definition.trigger) {
      sorted.triggers.add(definition.name);
      sorted.excluded.push({ job: definition.name, reason: "trigger: downstream pipelines do not run locally" });
      continue;
    }
    const job = options.ctx ? applyRules(definition, options.workflowVariables, options.ctx) : { job: definition };
    if ("reason" in job) {
      if (named) sorted.included.push(definition);
      else sorted.excluded.push({ job: definition.name, reason: job.reason });
    } else if (!named && job.job.when === "manual" && !isNamed(options.manual, definition)) {
      sorted.unplayed.push(job.job);
      sorted.excluded.push({ job: definition.name, reason: `when: manual (--manual "${definition.name}" plays it)` });
    } else {
      sorted.included.push(job.job);
    }
  }
  return sorted;
}

/** GitLab's checks once rules have run (docs/pipeline.md §6.7): needed jobs exist (unless optional), and some job is left. */
function checkCreatable({ included, unplayed, triggers }: SortedJobs): void {
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

/** The jobs in stage order, each with what it waits for: its needs present in the run, or every job of the earlier stages. */
function orderJobs(runnable: readonly JobDefinition[], stageOf: (job: JobDefinition) => number): PlannedJob[] {
  const names = new Set(runnable.map((j) => j.name));
  const ordered = [...runnable].sort((a, b) => stageOf(a) - stageOf(b));
  // One list of earlier-stage jobs per stage, shared by its jobs.
  const earlier = new Map<number, readonly string[]>();
  const seen: string[] = [];
  for (const job of ordered) {
    if (!earlier.has(stageOf(job))) earlier.set(stageOf(job), [...seen]);
    seen.push(job.name);
  }
  return ordered.map((job) => ({
    job,
    stageIndex: stageOf(job),
    after: job.needs ? job.needs.map((n) => n.job).filter((n) => names.has(n)) : earlier.get(stageOf(job))!,
  }));
}

/**
 * Jobs that cannot run because a manual job was not played (docs/pipeline.md §8.3, §9.2): those that need it (or a job
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
