import type { JobSummary, RunSummary } from "./run-record.ts";

const COLORS: Record<string, string> = {
  success: "#2da160", failed: "#dd2b0e", canceled: "#9e6fb3", skipped: "#c4c4c4", manual: "#666666",
};

/**
 * One self-contained HTML page of a run: a header with the pipeline status, then each job as a row
 * of its phases on a shared time axis (script lines drawn thin under their execution phase), with
 * status colours and the failing phase named. No script, no external file: it opens anywhere.
 */
export function renderRunHtml(run: RunSummary, jobs: readonly JobSummary[]): string {
  const starts = jobs.flatMap((j) => j.phases.map((p) => Date.parse(p.started_at)));
  const origin = Math.min(Date.parse(run.created_at), ...starts);
  const end = Math.max(Date.parse(run.finished_at), ...jobs.flatMap((j) => j.phases.map((p) => Date.parse(p.started_at) + p.duration_ms)));
  const span = Math.max(1, end - origin);
  const pct = (ms: number) => `${((ms / span) * 100).toFixed(3)}%`;
  const rows = jobs.map((job) => {
    const bars = job.phases.map((p) => {
      const left = Date.parse(p.started_at) - origin;
      const line = p.phase === "execution.script";
      const title = `${p.phase}${p.index ? ` #${p.index}` : ""}: ${p.status}, ${p.duration_ms} ms${p.skip_reason ? ` (${p.skip_reason})` : ""}${p.command ? `\n$ ${p.command}` : ""}`;
      return `<div class="bar${line ? " line" : ""}" style="left:${pct(left)};width:max(3px,${pct(p.duration_ms)});background:${COLORS[p.status] ?? "#888"}" title="${escape(title)}"></div>`;
    }).join("");
    const failed = job.failed_phase ? `<span class="why">failed in ${escape(job.failed_phase)}</span>` : "";
    // What the script raised with job commands (##vso[task.logissue], ::warning::), file:line first.
    const issues = (job.issues ?? []).map((i) => {
      const at = i.file ? `${[i.file, i.line, i.column].filter((x) => x !== undefined).join(":")}: ` : "";
      return `<span class="issue ${i.type}">${escape(i.type)} ${escape(at + i.message)}</span>`;
    }).join("");
    return `<div class="job"><div class="name"><span class="dot" style="background:${COLORS[job.status] ?? "#888"}"></span>${escape(job.job)}` +
      `<span class="meta">${escape(job.stage)} · ${escape(job.status)}${job.with_issues ? " with issues" : ""} · ${(job.duration_ms / 1000).toFixed(2)} s</span>${failed}${issues}</div>` +
      `<div class="track">${bars}</div></div>`;
  }).join("\n");
  const legend = Object.entries(COLORS).map(([s, c]) => `<span><i style="background:${c}"></i>${s}</span>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Run ${escape(run.run_id)}: ${escape(run.pipeline_status)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}.status{padding:2px 8px;border-radius:10px;color:#fff;background:${COLORS[run.pipeline_status] ?? "#888"}}
.sub{color:#666;margin-bottom:16px}.job{display:flex;align-items:center;border-bottom:1px solid #e5e5e5;padding:8px 0}
.name{width:320px;flex:none;font-weight:600}.meta{display:block;font-weight:400;color:#666;font-size:12px}.why{display:block;color:#dd2b0e;font-size:12px}
.issue{display:block;font-weight:400;font-size:12px}.issue.error{color:#dd2b0e}.issue.warning{color:#ab6100}.issue.notice{color:#2da160}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}
.track{position:relative;flex:1;height:28px;background:#fff;border:1px solid #e5e5e5;border-radius:3px}
.bar{position:absolute;top:3px;height:14px;border-radius:2px}.bar.line{top:20px;height:5px}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
</style></head><body>
<h1>Run ${escape(run.run_id)} <span class="status">${escape(run.pipeline_status)}${run.warnings ? " with warnings" : ""}</span></h1>
<div class="sub">${jobs.length} jobs · ${((end - origin) / 1000).toFixed(2)} s · ${escape(run.created_at)}</div>
<div class="legend">${legend}</div>
${rows}
</body></html>
`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
