import type { LocalJobResult } from "../local/local-run.ts";
import type { JobIssue } from "../trace/job-commands/trace-commands.ts";

const MARKS: Record<string, { text: string; color: number }> = {
  success: { text: "passed", color: 32 },
  failed: { text: "failed", color: 31 },
  allowed: { text: "failed (allowed)", color: 33 },
  canceled: { text: "canceled", color: 35 },
  skipped: { text: "skipped", color: 90 },
};

/** One row of the closing table. */
export interface SummaryRow {
  readonly job: string;
  readonly status: string;
  readonly allowFailure: boolean;
  readonly durationMs?: number;
  readonly failedPhase?: string;
  readonly why?: string;
  /** What the job's script raised with job commands (`##vso[task.logissue]`, `::warning::`). */
  readonly issues?: readonly JobIssue[];
  readonly withIssues?: boolean;
}

/** The closing lines of a run: each job with its status, duration, and the phase that failed. */
export function renderSummary(results: readonly LocalJobResult[], color: boolean): string {
  return renderTable(results.map((r) => ({
    job: r.job.name, status: r.status, allowFailure: r.allowFailure,
    ...(r.outcome ? { durationMs: r.outcome.durationMs } : {}),
    ...(r.summary?.failed_phase ? { failedPhase: r.summary.failed_phase } : {}),
    ...(r.outcome?.failure ? { why: r.outcome.failure.message } : {}),
    ...(r.summary?.issues ? { issues: r.summary.issues } : {}), ...(r.summary?.with_issues ? { withIssues: true } : {}),
  })), color);
}

/** The table itself, from rows that a run record can give as well. */
export function renderTable(rows: readonly SummaryRow[], color: boolean): string {
  const width = Math.max(...rows.map((r) => r.job.length));
  const lines = rows.map((r) => {
    const mark = MARKS[r.status === "failed" && r.allowFailure ? "allowed" : r.status] ?? { text: r.status, color: 37 };
    const status = mark.text.padEnd(16);
    const shown = color ? `\x1b[${mark.color}m${status}\x1b[0m` : status;
    const duration = r.durationMs !== undefined ? `${(r.durationMs / 1000).toFixed(2)}s` : "";
    const where = r.failedPhase ? `  in ${r.failedPhase}` : "";
    const why = r.why ? `: ${r.why}` : "";
    const issues = (r.issues ?? []).map((issue) => {
      const at = issue.file ? `${[issue.file, issue.line, issue.column].filter((x) => x !== undefined).join(":")}: ` : "";
      const kind = color ? `\x1b[${issue.type === "error" ? 31 : issue.type === "warning" ? 33 : 32}m${issue.type}\x1b[0m` : issue.type;
      return `\n      ${kind} ${at}${issue.message}`;
    }).join("");
    const withIssues = r.withIssues ? " (with issues)" : "";
    return `  ${shown} ${r.job.padEnd(width)}  ${duration.padStart(7)}${where}${why}${withIssues}${issues}`;
  });
  return `\n${lines.join("\n")}\n`;
}
