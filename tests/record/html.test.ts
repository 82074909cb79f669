import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";
import { git, makeRepository } from "../helpers/git-fixture.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === "true") throw new Error(`${CHROMIUM} is missing in CI; .ci/run installs chromium`);
if (!available) console.warn(`\n!!! SKIPPING the HTML rendering test: ${CHROMIUM} is not installed (apt-get install chromium) !!!\n`);

function chromium(...args: string[]) {
  const profile = mkdtempSync(join(tmpdir(), "runner-chromium-"));
  return Bun.spawnSync([
    CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`,
    "--hide-scrollbars", ...args,
  ], { timeout: 60_000 });
}

(available ? describe : describe.skip)("runner show --html in a real browser", () => {
  test("the page shows every job, and each job's row carries its status colour", () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), [
      "stages: [build, test]",
      "compile:\n  stage: build\n  script: [sleep 0.2, echo built]",
      "broken:\n  stage: test\n  script: [sleep 0.2, exit 1]",
      "checks:\n  stage: test\n  script: [sleep 0.3, echo ok]\n  allow_failure: true",
    ].join("\n"));
    git(repo.work, "add", ".");
    git(repo.work, "commit", "-q", "-m", "ci");
    Bun.spawnSync([BINARY, "exec"], { cwd: repo.work, env: { PATH: process.env.PATH! } });
    const page = join(repo.work, "run.html");
    expect(Bun.spawnSync([BINARY, "show", "--html", page], { cwd: repo.work }).exitCode).toBe(0);

    const dom = chromium("--dump-dom", `file://${page}`).stdout.toString();
    for (const name of ["compile", "broken", "checks"]) expect(dom).toContain(`</span>${name}<span class="meta">`);
    expect(dom).toContain("failed in job.execution");

    const shot = join(repo.work, "run.png");
    chromium("--window-size=1200,420", `--screenshot=${shot}`, `file://${page}`);
    const png = PNG.sync.read(readFileSync(shot));
    expect(png.width).toBe(1200);
    // Rows start below the header; find each job's row by its status dot, left of the timeline.
    const colour = (x: number, y: number) => {
      const i = (png.width * y + x) << 2;
      return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    };
    const near = ([r, g, b]: number[], [R, G, B]: number[]) => Math.abs(r! - R!) + Math.abs(g! - G!) + Math.abs(b! - B!) < 40;
    const GREEN = [0x2d, 0xa1, 0x60];
    const RED = [0xdd, 0x2b, 0x0e];
    const rowsWith = (target: number[]) => {
      const rows = new Set<number>();
      for (let y = 0; y < png.height; y++) {
        for (let x = 400; x < png.width; x++) {
          if (near(colour(x, y), target)) {
            rows.add(Math.floor(y / 20));
            break;
          }
        }
      }
      return rows.size;
    };
    // compile passed (green); broken and checks (an allowed failure) failed (red).
    expect(rowsWith(GREEN)).toBeGreaterThanOrEqual(1);
    expect(rowsWith(RED)).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
