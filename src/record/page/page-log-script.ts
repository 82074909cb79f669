/**
 * The job log of the pipeline page, as browser code: GitLab's trace format rendered as GitLab
 * renders it — ANSI colours (SGR), `section_start`/`section_end` as collapsible sections with their
 * durations (`[collapsed=true]` closed), timestamps in a column of their own when the trace has
 * them, numbered lines that link to themselves, the failing command and the failure line marked.
 * Long logs stay fast: a section's lines are made when it is first opened, and the top level is
 * drawn 2,000 lines at a time. Hand-written (~100 lines): the page must work offline from one file,
 * and GitLab's traces use a handful of SGR codes.
 */
export const LOG_SCRIPT = String.raw`
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) [0-9a-f]{2}[OE][ +]/;
const SECTION = /section_(start|end):(\d+):([A-Za-z0-9_.-]+)(\[([^\]]*)\])?\r?\x1b\[0K/;
const COLORS = {30:"#000",31:"#e05d44",32:"#3a9c5d",33:"#c18401",34:"#4078f2",35:"#a626a4",36:"#0184bc",37:"#999",90:"#777",91:"#ff6b6b",92:"#5fd38d",93:"#ffd866",94:"#6ea8fe",95:"#e085f0",96:"#56c8d8",97:"#fff"};

function ansiToHtml(text) {
  let out = "", bold = false, color = "", open = false;
  const parts = text.replace(/\x1b\[0?K/g, "").split(/\x1b\[([0-9;]*)m/);
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) { if (parts[i]) out += esc(parts[i]); continue; }
    for (const code of parts[i].split(";").map(Number)) {
      if (code === 0) { bold = false; color = ""; } else if (code === 1) bold = true; else if (COLORS[code]) color = COLORS[code]; else if (code === 39) color = "";
    }
    if (open) out += "</span>";
    open = bold || !!color;
    if (open) out += '<span style="' + (bold ? "font-weight:700;" : "") + (color ? "color:" + color : "") + '">';
  }
  return open ? out + "</span>" : out;
}

/** The trace as a tree: lines (with their number and time) and sections holding lines. */
function parseTrace(trace) {
  const root = { children: [] }, stack = [root];
  const lines = trace.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  let number = 0, lastCommand = -1, failure = -1;
  const flat = [];
  for (const raw of lines) {
    let text = raw, time = "";
    const stamp = STAMP.exec(text);
    if (stamp) { time = stamp[1].slice(11, 19); text = text.slice(stamp[0].length); }
    let marker, marked = false;
    while ((marker = SECTION.exec(text))) {
      marked = true;
      text = text.replace(marker[0], "");
      if (marker[1] === "start") {
        const section = { name: marker[3], start: Number(marker[2]), collapsed: (marker[5] || "").includes("collapsed=true"), header: null, children: [] };
        stack[stack.length - 1].children.push(section); stack.push(section);
      } else {
        for (let i = stack.length - 1; i > 0; i--) if (stack[i].name === marker[3]) { stack[i].end = Number(marker[2]); stack.length = i; break; }
      }
    }
    if (marked && text.replace(/\x1b\[[0-9;]*[mK]/g, "") === "") continue;
    const line = { n: ++number, time, text: text.includes("\r") ? text.slice(text.lastIndexOf("\r") + 1) : text };
    const plain = line.text.replace(/\x1b\[[0-9;]*[mK]/g, "");
    if (plain.startsWith("$ ")) lastCommand = flat.length;
    if (/^ERROR: Job failed/.test(plain)) failure = flat.length;
    flat.push(line);
    const top = stack[stack.length - 1];
    if (top !== root && top.header === null) top.header = line; else top.children.push(line);
  }
  if (failure >= 0) { flat[failure].failure = true; if (lastCommand >= 0 && lastCommand < failure) flat[lastCommand].failing = true; }
  return { root, count: number, failing: failure >= 0 && lastCommand >= 0 ? flat[lastCommand].n : 0 };
}

function lineHtml(job, line) {
  const cls = "line" + (line.failing ? " failing" : "") + (line.failure ? " failure" : "");
  return '<div class="' + cls + '" id="L' + line.n + '"><a class="n" href="#job=' + encodeURIComponent(job) + "&line=" + line.n + '">' + line.n + "</a>" +
    (line.time ? '<span class="t">' + line.time + "</span>" : "") + '<span class="x">' + ansiToHtml(line.text) + "</span></div>";
}

/** Fills an element with a node list, 2,000 items at a time; sections make their body when opened. */
function renderNodes(el, job, nodes, from) {
  const end = Math.min(nodes.length, from + 2000);
  const html = [];
  for (let i = from; i < end; i++) {
    const node = nodes[i];
    if (!node.children) { html.push(lineHtml(job, node)); continue; }
    const secs = node.end !== undefined ? " (" + Math.max(0, node.end - node.start) + " s)" : "";
    const head = node.header ? lineHtml(job, node.header).replace("</div>", '<span class="dur">' + secs + "</span></div>") : '<div class="line">' + esc(node.name) + secs + "</div>";
    html.push('<details class="section" data-i="' + i + '"' + (node.collapsed ? "" : " open") + "><summary>" + head + '</summary><div class="body"></div></details>');
  }
  el.insertAdjacentHTML("beforeend", html.join(""));
  for (const d of el.querySelectorAll(":scope > details.section:not([data-done])")) {
    const node = nodes[Number(d.dataset.i)];
    const fill = () => { if (d.dataset.done) return; d.dataset.done = "1"; renderNodes(d.querySelector(".body"), job, node.children, 0); };
    if (d.open) fill(); else d.addEventListener("toggle", fill, { once: true });
  }
  if (end < nodes.length) {
    const more = document.createElement("button");
    more.className = "more"; more.textContent = "Show " + Math.min(2000, nodes.length - end) + " more of " + (nodes.length - end) + " lines";
    more.onclick = () => { more.remove(); renderNodes(el, job, nodes, end); };
    el.appendChild(more);
  }
}
`;
