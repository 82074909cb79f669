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
