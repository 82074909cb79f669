import type { Plan } from "../pipeline/plan.ts";

/** One row of `runner exec --list`: a job of the pipeline, or one left out, with the reason. */
export interface ListedJob {
  readonly name: string;
  readonly stage: string;
  readonly when: string;
  readonly allowFailure: boolean;
  /** Its needs (a DAG job) or undefined (it waits for the earlier stages). */
  readonly needs?: readonly string[];
  /** Why it does not run, when it does not: the rule or `when` that left it out. */
  readonly excluded?: string;
}

/** The plan as rows: the jobs that run in stage order, then those left out. */
export function listPlan(plan: Plan, stageOf: (job: string) => string | undefined): ListedJob[] {
  const running: ListedJob[] = plan.jobs.map(({ job }) => ({
    name: job.name, stage: job.stage, when: job.when, allowFailure: job.allowFailure,
    ...(job.needs ? { needs: job.needs.map((n) => n.job) } : {}),
  }));
  const excluded: ListedJob[] = plan.excluded.map(({ job, reason }) => ({
    name: job, stage: stageOf(job) ?? "", when: "", allowFailure: false, excluded: reason,
  }));
  return [...running, ...excluded];
}

/** `--list`: an aligned table for people. */
export function renderListing(rows: readonly ListedJob[]): string {
  const header = ["name", "stage", "when", "allow_failure", "needs / not running because"];
  const cells = rows.map((r) => [
    r.name, r.stage, r.excluded ? "-" : r.when, r.excluded ? "-" : String(r.allowFailure),
    r.excluded ? `not running: ${r.excluded}` : r.needs ? (r.needs.length ? r.needs.join(", ") : "[] (starts at once)") : "(earlier stages)",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

/**
 * `--graph`: the DAG in the terminal, in levels — a job sits one level below the deepest job it
 * waits for (its needs, or the jobs of the earlier stages) — each with what it waits for.
 */
export function renderGraph(plan: Plan): string {
  const level = new Map<string, number>();
  const byName = new Map(plan.jobs.map((p) => [p.job.name, p]));
  const depth = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const planned = byName.get(name);
    const d = planned ? 1 + Math.max(0, ...planned.after.filter((a) => byName.has(a)).map(depth)) : 0;
    level.set(name, d);
    return d;
  };
  const levels: string[][] = [];
  for (const { job, after } of plan.jobs) {
    const d = depth(job.name);
    const waits = job.needs ? job.needs.map((n) => n.job) : after.length > 0 ? [`stage ${stageBefore(plan, job.stage)}`] : [];
    (levels[d - 1] ??= []).push(waits.length > 0 ? `${job.name} ← ${waits.join(", ")}` : job.name);
  }
  return levels.map((jobs, i) => `${String(i + 1).padStart(2)} │ ${jobs.join("   ")}`).join("\n") + "\n";
}

function stageBefore(plan: Plan, stage: string): string {
  const stages = [...new Set(plan.jobs.map((p) => p.job.stage))];
  return stages[stages.indexOf(stage) - 1] ?? stage;
}
