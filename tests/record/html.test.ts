import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { chromiumAvailable, launchBrowser, type Browser } from "../helpers/browser.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { BINARY } from "../helpers/real-parts.ts";

/**
 * The pipeline page (`runner show --html`, `runner exec --serve`) in Debian's real Chromium, driven
 * over the DevTools protocol: GitLab's pipeline graph (stage columns, `needs` lines), the job log
 * as GitLab renders a trace, the labelled timeline, and the live page following a run.
 */
const available = chromiumAvailable();
const SHOTS = join(tmpdir(), "runner-page-screenshots");
let browser: Browser;
beforeAll(async () => {
  if (!available) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

const PIPELINE = [
  "stages: [build, test, deploy]",
  "compile:\n  stage: build\n  script:\n    - echo compiling\n    - 'echo \"::group::Details of the build\"'\n    - echo hidden detail\n    - 'echo \"::endgroup::\"'",
  "broken:\n  stage: test\n  needs: [compile]\n  script:\n    - echo testing\n    - 'echo \"::warning file=src/a.c,line=3::careful here\"'\n    - exit 3",
  "checks:\n  stage: test\n  needs: []\n  allow_failure: true\n  script: [echo ok]",
  "ship:\n  stage: deploy\n  script: [echo ship]",
].join("\n");

function repository(pipeline: string) {
  const repo = makeRepository(1);
  writeFileSync(join(repo.work, ".gitlab-ci.yml"), pipeline);
  git(repo.work, "add", ".");
  git(repo.work, "commit", "-q", "-m", "ci");
  return repo;
}

/** A screenshot is kept, and it is not blank: many colours, and not one covering nearly all of it. */
async function keepShot(name: string): Promise<string> {
  const png = PNG.sync.read(await browser.screenshot());
  const file = join(SHOTS, `${name}.png`);
  writeFileSync(file, PNG.sync.write(png));
  const counts = new Map<number, number>();
  for (let i = 0; i < png.data.length; i += 4 * 7) {
    const key = (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const most = Math.max(...counts.values()) / [...counts.values()].reduce((a, b) => a + b, 0);
  expect(counts.size).toBeGreaterThan(20);
  expect(most).toBeLessThan(0.97);
  return file;
}

(available ? describe : describe.skip)("the pipeline page in a real browser", () => {
  test("the written page: graph in stage columns with a needs line, the failed job's log, the labelled timeline", async () => {
    const repo = repository(PIPELINE);
    Bun.spawnSync([BINARY, "exec"], { cwd: repo.work, env: { PATH: process.env.PATH! } });
    const page = join(repo.work, "run.html");
    expect(Bun.spawnSync([BINARY, "show", "--html", page], { cwd: repo.work }).exitCode).toBe(0);

    await browser.goto(`file://${page}#graph`);
    await browser.waitFor("document.body.dataset.ready");
    const columns = await browser.evaluate<string[][]>(`[...document.querySelectorAll(".stage")].map((s) => [s.querySelector("h3").textContent, ...[...s.querySelectorAll(".job .name")].map((n) => n.textContent)])`);
    expect(columns).toEqual([["build", "compile"], ["test", "broken", "checks"], ["deploy", "ship"]]);
    // The line runs from compile's right edge to broken's left edge.
    expect(await browser.evaluate<string[]>(`[...document.querySelectorAll("path.need")].map((p) => {
      const box = document.querySelector(".graph").getBoundingClientRect(), len = p.getTotalLength();
      const a = p.getPointAtLength(0), b = p.getPointAtLength(len);
      const from = document.querySelector('.job[data-job="' + p.dataset.from + '"]').getBoundingClientRect();
      const to = document.querySelector('.job[data-job="' + p.dataset.to + '"]').getBoundingClientRect();
      const near = (x, y) => Math.abs(x - y) < 2;
      return p.dataset.from + ">" + p.dataset.to + ":" + (near(a.x + box.left, from.right) && near(b.x + box.left, to.left) && len > 30);
    })`)).toEqual(["compile>broken:true"]);
    expect(await browser.evaluate<string>(`document.querySelector('.job[data-job="checks"]').className`)).toBe("job success");
    expect(await browser.evaluate<string>(`document.querySelector('.job[data-job="broken"]').className`)).toBe("job failed");
    expect(await browser.evaluate<string>(`document.querySelector('.job[data-job="ship"] .why').textContent`)).toContain("failed");
    const graphShot = await keepShot("graph");

    await browser.evaluate(`document.querySelector('.job[data-job="broken"]').click()`);
    await browser.waitFor(`document.querySelector(".log .line")`);
    expect(await browser.evaluate<string>(`document.querySelector(".line.failing .x").textContent`)).toBe("$ exit 3");
    expect(await browser.evaluate<string>(`document.querySelector(".line.failure .x").textContent`)).toBe("ERROR: Job failed: exit status 3");
    expect(await browser.evaluate<boolean>(`document.querySelector(".line.target").classList.contains("failing")`)).toBe(true);
    expect(await browser.evaluate<string>(`getComputedStyle(document.querySelector(".line.failure .x span")).color`)).toBe("rgb(224, 93, 68)");
    expect(await browser.evaluate<string>(`document.querySelector(".issues").textContent`)).toContain("src/a.c:3: careful here");
    const sections = await browser.evaluate<number>(`document.querySelectorAll(".log details.section").length`);
    expect(sections).toBeGreaterThanOrEqual(4);
    const logShot = await keepShot("job-log");

    // A collapsed group opens when clicked, and makes its lines then.
    await browser.goto(`file://${page}#job=compile`);
    await browser.waitFor(`document.querySelector(".log .line")`);
    const group = `[...document.querySelectorAll(".log details.section")].find((d) => d.querySelector("summary").textContent.includes("Details of the build"))`;
    expect(await browser.evaluate<boolean>(`${group}.open`)).toBe(false);
    expect(await browser.evaluate<string>(`document.querySelector(".log").textContent`)).not.toContain("hidden detail");
    await browser.evaluate(`${group}.querySelector("summary").click()`);
    await browser.waitFor(`document.querySelector(".log").textContent.includes("hidden detail")`);

    await browser.goto(`file://${page}#timeline`);
    await browser.waitFor(`document.querySelector(".timeline .bar")`);
    const labels = await browser.evaluate<string[]>(`[...new Set([...document.querySelectorAll(".timeline .bar .label")].map((l) => l.textContent.split(" ")[0]))]`);
    for (const label of ["prepare", "get_sources", "script", "$", "cleanup"]) expect(labels).toContain(label);
    expect(await browser.evaluate<number>(`document.querySelectorAll(".axis .tick").length`)).toBeGreaterThan(1);
    const timelineShot = await keepShot("timeline");
    console.log(`page screenshots: ${graphShot}, ${logShot}, ${timelineShot}`);
  }, 120_000);

  test("a long log stays fast: 300,000 lines open in pages of 2,000", async () => {
    const repo = repository("long:\n  script: [seq 1 300000]\n");
    Bun.spawnSync([BINARY, "exec"], { cwd: repo.work, env: { PATH: process.env.PATH! } });
    const page = join(repo.work, "run.html");
    expect(Bun.spawnSync([BINARY, "show", "--html", page], { cwd: repo.work }).exitCode).toBe(0);
    const started = performance.now();
    await browser.goto(`file://${page}#job=long`);
    await browser.waitFor(`document.querySelector(".log button.more")`);
    const opened = performance.now() - started;
    const lines = await browser.evaluate<number>(`document.querySelectorAll(".log .line").length`);
    expect(lines).toBeLessThan(2100);
    expect(await browser.evaluate<string>(`document.querySelector(".log button.more").textContent`)).toMatch(/^Show 2000 more of \d+ lines$/);
    expect(opened).toBeLessThan(10_000);
    console.log(`a 300,000-line log opened in ${opened.toFixed(0)} ms with ${lines} lines drawn`);
  }, 60_000);

  test("runner exec --serve: the live page shows a job running, then done; the server stops with the run", async () => {
    const repo = repository("quick:\n  script: [echo quick]\nslow:\n  script: [echo start, sleep 3, echo done]\n");
    const child = Bun.spawn([BINARY, "exec", "--no-color", "--serve", "127.0.0.1:0"], { cwd: repo.work, env: { PATH: process.env.PATH! }, stdout: "pipe", stderr: "pipe" });
    const reader = child.stderr.getReader();
    let said = "";
    while (!/http:\/\/127\.0\.0\.1:\d+\//.test(said)) said += new TextDecoder().decode((await reader.read()).value);
    reader.releaseLock();
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(said)![0];
    await browser.goto(url);
    await browser.waitFor(`document.querySelector('.job[data-job="slow"].running')`, 10_000);
    expect(await browser.evaluate<string>(`document.querySelector("header .status").textContent`)).toBe("running");
    const liveShot = await keepShot("live-running");
    await browser.waitFor(`document.querySelector('.job[data-job="slow"].success')`, 20_000);
    expect(await browser.evaluate<string>(`document.querySelector("header .status").textContent`)).toBe("success");
    expect(await child.exited).toBe(0);
    const after = await fetch(url).then(() => "answered", () => "stopped");
    expect(after).toBe("stopped");
    console.log(`live page screenshot: ${liveShot}`);
  }, 60_000);
});
