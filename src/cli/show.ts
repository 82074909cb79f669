import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderPage } from "../record/page/page-html.ts";
import { readPageState } from "../record/page/page-state.ts";
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
  if (options.html) {
    writeFileSync(options.html, pageOf(realpathSync(dir)));
    options.print(`Wrote ${options.html}\n`);
    return EXIT.ok;
  }
  const run = JSON.parse(readFileSync(summaryFile, "utf8")) as RunSummary;
  const jobs = run.jobs.map((j) => JSON.parse(readFileSync(join(dir, j.dir, "summary.json"), "utf8")) as JobSummary);
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

/** The run's page as one file: its state and every job's trace inside; artifacts linked in the record. */
function pageOf(dir: string): string {
  const state = { ...readPageState(dir), base: `${Bun.pathToFileURL(dir).href}/` };
  const traces = new Map(state.jobs.filter((j) => j.dir && existsSync(join(dir, j.dir, "trace.log"))).map((j) => [j.dir!, readFileSync(join(dir, j.dir!, "trace.log"), "utf8")]));
  return renderPage(state, traces);
}

/** `runner show --serve`: the run's page from a server, until Ctrl-C. */
export async function serveShow(options: { cwd: string; run?: string; address: string; print: (text: string) => void }): Promise<number> {
  const runs = join(resolve(options.cwd), ".runner", "runs");
  const dir = join(runs, options.run ?? "latest");
  if (!existsSync(join(dir, "summary.json"))) throw new UsageError(`No run ${options.run ?? "recorded"} in ${runs}`);
  const { servePage } = await import("./page-server.ts");
  const real = realpathSync(dir);
  const server = servePage({ address: options.address, runDir: () => real });
  options.print(`Serving the run's page at ${server.url} (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  server.stop();
  return EXIT.ok;
}
