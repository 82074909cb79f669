import type { LocalJobResult } from "../pipeline/local-run.ts";

const MARKS: Record<LocalJobResult["status"] | "allowed", { text: string; color: number }> = {
  success: { text: "passed", color: 32 },
  failed: { text: "failed", color: 31 },
  allowed: { text: "failed (allowed)", color: 33 },
  canceled: { text: "canceled", color: 35 },
  skipped: { text: "skipped", color: 90 },
};

/** A few closing lines: each job with its status, duration and failure. */
export function renderSummary(results: readonly LocalJobResult[], color: boolean): string {
  const width = Math.max(...results.map((r) => r.job.name.length));
  const lines = results.map((r) => {
    const key = r.status === "failed" && r.allowFailure ? "allowed" : r.status;
    const mark = MARKS[key];
    const status = mark.text.padEnd(16);
    const shown = color ? `\x1b[${mark.color}m${status}\x1b[0m` : status;
    const duration = r.outcome ? `${(r.outcome.durationMs / 1000).toFixed(2)}s` : "";
    const why = r.outcome?.failure ? `  ${r.outcome.failure.message}` : "";
    return `  ${shown} ${r.job.name.padEnd(width)}  ${duration.padStart(7)}${why}`;
  });
  return `\n${lines.join("\n")}\n`;
}
