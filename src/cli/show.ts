import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderRunHtml } from "../record/html.ts";
import type { JobSummary, RunSummary } from "../record/run-record.ts";
import { EXIT, UsageError } from "./exit-codes.ts";
import { renderTable } from "./summary.ts";

/** `runner show [RUN]`: the closing table of a run again, from its record; `--html FILE` writes its page. */
export function show(options: {
  cwd: string; run?: string; html?: string; color: boolean; print: (text: string) => void;
}): number {
  const runs = join(resolve(options.cwd), ".runner", "runs");
  const dir = join(runs, options.run ?? "latest");
  const summaryFile = join(dir, "summary.json");
  if (!existsSync(summaryFile)) {
    throw new UsageError(options.run ? `No run ${options.run} in ${runs}` : `No run recorded in ${runs} yet; runner exec leaves one`);
  }
  const run = JSON.parse(readFileSync(summaryFile, "utf8")) as RunSummary;
  const jobs = run.jobs.map((j) => JSON.parse(readFileSync(join(dir, j.dir, "summary.json"), "utf8")) as JobSummary);
  if (options.html) {
    writeFileSync(options.html, renderRunHtml(run, jobs));
    options.print(`Wrote ${options.html}\n`);
    return EXIT.ok;
  }
  options.print(`Run ${run.run_id}: ${run.pipeline_status}${run.warnings ? " with warnings" : ""}\n`);
  options.print(renderTable(jobs.map((j) => ({
    job: j.job, status: j.status, allowFailure: j.allow_failure,
    ...(j.status !== "skipped" && j.status !== "manual" ? { durationMs: j.duration_ms } : {}),
    ...(j.failed_phase ? { failedPhase: j.failed_phase } : {}),
    ...(j.failure_reason ? { why: `${j.failure_reason}${j.exit_code ? ` (exit code ${j.exit_code})` : ""}` } : {}),
  })), options.color));
  // A pipeline blocked on a manual job is not a failure.
  return run.pipeline_status === "failed" || run.pipeline_status === "canceled" ? EXIT.jobFailed : EXIT.ok;
}
