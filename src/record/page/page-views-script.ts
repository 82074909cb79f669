/**
 * The pipeline page's views, as browser code: the graph (jobs in stage columns, `needs` as lines
 * between them, as GitLab's "job dependencies" view), the timeline (each job's phases on one time
 * axis, labelled), the job view (its log, issues, coverage and artifacts), and the router
 * (`#graph`, `#timeline`, `#job=NAME&line=N`). A live page asks for the state again at each event.
 */
export const VIEWS_SCRIPT = String.raw`
const ICONS = { success: "✓", failed: "✗", canceled: "⊘", skipped: "»", manual: "▶", running: "◷", pending: "…" };
const LABELS = { "job.provider_prepare": "prepare", "job.source_prepare": "get_sources", "job.cache_restore": "restore cache",
  "job.artifact_restore": "download artifacts", "job.execution": "script", "execution.script": "$", "job.after_script": "after_script",
  "job.cache_save": "save cache", "job.artifact_save": "upload artifacts", "job.cleanup": "cleanup" };
let state = null, served = false;
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const secs = (ms) => ms === undefined ? "" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
const statusOf = (j) => j.status === "failed" && j.allowFailure ? "allowed" : j.status;

function graphView() {
  const cols = state.stages.map((stage) => '<div class="stage"><h3>' + esc(stage) + "</h3>" + state.jobs.filter((j) => j.stage === stage).sort((a, b) => a.name.localeCompare(b.name)).map((j) =>
    '<a class="job ' + statusOf(j) + '" data-job="' + esc(j.name) + '" href="#job=' + encodeURIComponent(j.name) + '"><span class="icon">' + (ICONS[j.status] || "?") + '</span><span class="name">' + esc(j.name) + "</span>" +
    '<span class="meta">' + esc([secs(j.durationMs), j.allowFailure && j.status === "failed" ? "allowed to fail" : "", j.retried ? "retried" : "", j.withIssues ? "with issues" : ""].filter(Boolean).join(" · ")) + "</span>" +
    (j.why && j.status !== "failed" ? '<span class="why">' + esc(j.why) + "</span>" : "") + "</a>").join("") + "</div>").join("");
  return '<div class="graph"><svg class="needs"></svg>' + cols + "</div>";
}

/** needs: a line from the right edge of each needed job to the left edge of the job that needs it. */
function drawNeeds() {
  const graph = document.querySelector(".graph"), svg = graph && graph.querySelector("svg.needs");
  if (!svg) return;
  const box = graph.getBoundingClientRect();
  svg.setAttribute("width", graph.scrollWidth); svg.setAttribute("height", graph.scrollHeight);
  const at = (name) => graph.querySelector('.job[data-job="' + CSS.escape(name) + '"]');
  const paths = [];
  for (const job of state.jobs) for (const need of job.needs || []) {
    const from = at(need), to = at(job.name);
    if (!from || !to) continue;
    const a = from.getBoundingClientRect(), b = to.getBoundingClientRect();
    const x1 = a.right - box.left, y1 = a.top + a.height / 2 - box.top, x2 = b.left - box.left, y2 = b.top + b.height / 2 - box.top;
    paths.push('<path class="need" data-from="' + esc(need) + '" data-to="' + esc(job.name) + '" d="M' + x1 + "," + y1 + " C" + (x1 + 30) + "," + y1 + " " + (x2 - 30) + "," + y2 + " " + x2 + "," + y2 + '"/>');
  }
  svg.innerHTML = paths.join("");
}

function timelineView() {
  const starts = state.jobs.flatMap((j) => j.phases.map((p) => Date.parse(p.started_at)));
  if (starts.length === 0) return '<p class="empty">No job has started yet.</p>';
  const origin = Math.min(...starts), end = Math.max(...state.jobs.flatMap((j) => j.phases.map((p) => Date.parse(p.started_at) + p.duration_ms)));
  const span = Math.max(1, end - origin), pct = (ms) => (ms / span * 100).toFixed(3) + "%";
  const ticks = []; const step = [10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000, 300000].find((s) => span / s <= 10) || 600000;
  for (let t = 0; t <= span; t += step) ticks.push('<span class="tick" style="left:' + pct(t) + '">' + secs(t) + "</span>");
  const rows = state.jobs.filter((j) => j.phases.length > 0).map((j) => '<div class="trow"><a class="tname" href="#job=' + encodeURIComponent(j.name) + '">' + esc(j.name) + '</a><div class="track">' +
    j.phases.map((p) => {
      const label = (LABELS[p.phase] || p.phase) + (p.phase === "execution.script" ? " " + (p.command || "#" + p.index) : "");
      return '<div class="bar ' + (p.phase === "execution.script" ? "line " : "") + p.status + '" style="left:' + pct(Date.parse(p.started_at) - origin) + ";width:" + pct(p.duration_ms) + '" title="' + esc(label + ": " + p.status + ", " + p.duration_ms + " ms") + '"><span class="label">' + esc(label) + "</span></div>";
    }).join("") + "</div></div>").join("");
  return '<div class="timeline"><div class="axis">' + ticks.join("") + "</div>" + rows + "</div>";
}

async function traceOf(job) {
  if (!served) { const el = document.getElementById("trace-" + job.dir); return el ? JSON.parse(el.textContent) : ""; }
  const r = await fetch("trace/" + encodeURIComponent(job.dir || ""));
  return r.ok ? r.text() : "";
}

async function jobView(name, line) {
  const job = state.jobs.find((j) => j.name === name);
  if (!job) return '<p class="empty">No job ' + esc(name) + "</p>";
  const issues = (job.issues || []).map((i) => '<li class="issue ' + i.type + '">' + esc(i.type) + " " + esc((i.file ? [i.file, i.line, i.column].filter((x) => x !== undefined).join(":") + ": " : "") + i.message) + "</li>").join("");
  const files = job.artifacts.map((f) => '<li><a href="' + (served ? "artifacts/" + encodeURIComponent(job.dir) + "/" : (state.base || "") + job.dir + "/artifacts/") + esc(f) + '">' + esc(f) + "</a></li>").join("");
  const head = '<div class="jobhead ' + statusOf(job) + '"><span class="icon">' + (ICONS[job.status] || "?") + "</span><h2>" + esc(job.name) + '</h2><span class="meta">' +
    esc([job.stage, job.status, secs(job.durationMs), job.failedPhase ? "failed in " + job.failedPhase : "", job.why || "", job.coverage !== undefined ? "coverage " + job.coverage + "%" : ""].filter(Boolean).join(" · ")) + "</span></div>" +
    (issues ? '<ul class="issues">' + issues + "</ul>" : "") + (files ? '<h4>Artifacts</h4><ul class="files">' + files + "</ul>" : "");
  return { head, job, line };
}

async function render() {
  const hash = new URLSearchParams(location.hash.slice(1).replace(/^graph$|^timeline$/, (v) => "view=" + v));
  const view = hash.get("job") !== null ? "job" : hash.get("view") || "graph";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("on", a.dataset.view === view);
  const main = document.querySelector("main");
  document.querySelector("header h1").textContent = "Run " + state.runId;
  document.querySelector("header .status").textContent = state.status + (state.warnings ? " with warnings" : "");
  document.querySelector("header .status").className = "status " + state.status;
  if (view === "timeline") { main.innerHTML = timelineView(); return; }
  if (view === "graph") { main.innerHTML = graphView(); drawNeeds(); return; }
  const shown = await jobView(hash.get("job"), Number(hash.get("line")) || 0);
  if (typeof shown === "string") { main.innerHTML = shown; return; }
  main.innerHTML = shown.head + '<div class="log"></div>';
  const tree = parseTrace(await traceOf(shown.job));
  renderNodes(main.querySelector(".log"), shown.job.name, tree.root.children, 0);
  const target = document.getElementById("L" + (shown.line || tree.failing));
  if (target) { target.classList.add("target"); target.scrollIntoView({ block: "center" }); }
}

async function start() {
  const embedded = document.getElementById("state");
  served = !embedded;
  state = embedded ? JSON.parse(embedded.textContent) : await (await fetch("state.json")).json();
  window.addEventListener("hashchange", render);
  window.addEventListener("resize", drawNeeds);
  await render();
  if (state.live) {
    const events = new EventSource("events");
    let busy = false, again = false;
    const refresh = async () => {
      if (busy) { again = true; return; }
      busy = true;
      do {
        again = false;
        const before = JSON.stringify(state.jobs.map((j) => [j.status, j.phases.length]));
        state = await (await fetch("state.json")).json();
        // An open log is drawn again only when its job moved on (its scroll stays otherwise).
        const changed = before !== JSON.stringify(state.jobs.map((j) => [j.status, j.phases.length]));
        if (changed || !location.hash.includes("job=")) await render();
      } while (again);
      busy = false;
    };
    events.onmessage = (e) => { refresh(); if (e.data === "end") events.close(); };
  }
  document.body.dataset.ready = "1";
}
start();
`;
