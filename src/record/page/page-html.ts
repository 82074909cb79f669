import { LOG_SCRIPT } from "./page-log-script.ts";
import type { PageState } from "./page-state.ts";
import { VIEWS_SCRIPT } from "./page-views-script.ts";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{display:flex;align-items:center;gap:16px;padding:12px 20px;background:#fff;border-bottom:1px solid #e5e5e5}
header h1{font-size:18px;margin:0}nav a{margin-right:14px;color:#555;text-decoration:none}nav a.on{color:#1f75cb;font-weight:600}
.status{padding:2px 10px;border-radius:10px;color:#fff;background:#888}.status.success{background:#2da160}.status.failed{background:#dd2b0e}
.status.running{background:#1f75cb}.status.canceled{background:#9e6fb3}.status.skipped,.status.manual{background:#888}
main{padding:16px 20px}.empty{color:#666}
.graph{position:relative;display:flex;gap:48px;align-items:flex-start}.graph svg.needs{position:absolute;left:0;top:0;pointer-events:none;overflow:visible}
path.need{fill:none;stroke:#a4a3a8;stroke-width:2}.stage{display:flex;flex-direction:column;gap:10px;min-width:190px}
.stage h3{font-size:13px;text-transform:capitalize;color:#555;margin:0 0 4px}
.job{display:grid;grid-template-columns:22px 1fr;column-gap:6px;background:#fff;border:1px solid #dcdcde;border-radius:18px;padding:6px 12px;color:#222;text-decoration:none;position:relative;z-index:1}
.job .icon{grid-row:span 3;font-weight:700}.job .meta,.job .why{grid-column:2;font-size:12px;color:#666}
.success .icon{color:#2da160}.failed .icon{color:#dd2b0e}.allowed .icon{color:#ab6100}.canceled .icon{color:#9e6fb3}.skipped .icon,.manual .icon,.pending .icon{color:#888}.running .icon{color:#1f75cb}
.timeline{position:relative}.axis{position:relative;height:20px;margin-left:180px;border-bottom:1px solid #ccc}
.tick{position:absolute;font-size:11px;color:#777;transform:translateX(-50%)}.trow{display:flex;align-items:center;height:40px;border-bottom:1px solid #eee}
.tname{width:180px;flex:none;color:#222}.track{position:relative;flex:1;height:34px}
.bar{position:absolute;top:2px;height:16px;border-radius:2px;background:#2da160;overflow:hidden;white-space:nowrap}
.bar.line{top:21px;height:11px;background:#7fc59c}.bar.failed{background:#dd2b0e}.bar.skipped{background:#c4c4c4}.bar.running{background:#1f75cb}
.bar .label{font-size:10px;color:#fff;padding:0 3px;line-height:16px}.bar.line .label{line-height:11px;font-size:9px}
.jobhead{display:flex;align-items:baseline;gap:10px}.jobhead h2{margin:0;font-size:18px}.jobhead .meta{color:#666}
.issues li.error{color:#dd2b0e}.issues li.warning{color:#ab6100}.issues li.notice{color:#2da160}
.log{background:#1f1f1f;color:#ddd;font:12px/1.5 ui-monospace,Menlo,monospace;padding:8px 0;border-radius:4px;margin-top:12px;overflow-x:auto}
.line{display:flex;white-space:pre-wrap;padding:0 8px}.line .n{width:48px;flex:none;color:#777;text-align:right;margin-right:12px;text-decoration:none}
.line .t{color:#888;margin-right:10px}.line.failing{background:#5a1d1d}.line.failure{background:#3d1414}.line.target{outline:1px solid #e0a800}
details.section>summary{list-style:none;cursor:pointer}details.section>summary::-webkit-details-marker{display:none}
details.section>summary .line::before{content:"▸";color:#aaa;margin-right:4px}details.section[open]>summary .line::before{content:"▾"}
.dur{color:#888;margin-left:8px}button.more{margin:6px 68px;background:#333;color:#ddd;border:1px solid #555;border-radius:3px;padding:2px 8px;cursor:pointer}
`;

/**
 * The pipeline page of a run: one HTML file with its state and every job's trace inside (`state`
 * given), or the page a server hands out (no state: it fetches state, traces and events from it).
 * Works offline; no file outside it is needed.
 */
export function renderPage(state: PageState | undefined, traces: ReadonlyMap<string, string> = new Map()): string {
  const title = state ? `Run ${text(state.runId)}` : "Run";
  const embedded = !state ? "" : `<script type="application/json" id="state">${json(state)}</script>\n` +
    [...traces].map(([dir, trace]) => `<script type="application/json" id="trace-${attr(dir)}">${json(trace)}</script>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${STYLE}</style></head>
<body><header><h1>${title}</h1><span class="status"></span>
<nav><a data-view="graph" href="#graph">Pipeline</a><a data-view="timeline" href="#timeline">Timeline</a></nav></header>
<main></main>
${embedded}
<script>${VIEWS_SCRIPT}${LOG_SCRIPT}</script>
</body></html>
`;
}

/** JSON safe inside a <script> element. */
function json(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

function text(value: string): string {
  return value.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}

function attr(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, "_");
}
