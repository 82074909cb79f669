/**
 * Times planning a 500-job pipeline made with includes, extends, !reference, rules and a matrix:
 * in process (parse, include, extend, validate, plan — the work `runner exec` and `runner lint` do)
 * and end to end through `dist/runner exec --dry-run` (with and without the plan cache) and
 * `dist/runner lint`. Prints figures; asserts nothing. Run with `bun bench/plan.ts` after a build.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readPipeline } from "../src/pipeline/definitions.ts";
import { projectIncludes } from "../src/pipeline/pipeline-cache.ts";
import { planRun } from "../src/pipeline/plan.ts";
import { parseYamlFile } from "../src/pipeline/yaml-file.ts";

const BINARY = resolve(import.meta.dir, "../dist/runner");
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

/** 20 included files of 20 jobs (400), 4 of them with rules, a 10 × 10 matrix job (100): 500 jobs. */
function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-bench-plan-"));
  mkdirSync(join(dir, "ci"));
  writeFileSync(join(dir, "ci", "templates.yml"), [
    ".base:",
    "  image: debian:bookworm",
    "  variables: { LEVEL: base, COLOR: blue }",
    "  before_script: [echo setup]",
    "  retry: { max: 1, when: [runner_system_failure] }",
    ".rules:",
    "  rules:",
    '    - if: $CI_COMMIT_TAG',
    "      when: never",
    '    - if: $CI_COMMIT_BRANCH == "main"',
    "    - when: manual",
    ".test:",
    "  extends: .base",
    "  stage: test",
    "  artifacts: { paths: [out/], expire_in: 1 week }",
  ].join("\n"));
  for (let f = 0; f < 20; f++) {
    const jobs = Array.from({ length: 20 }, (_, j) => {
      const name = `job-${f}-${j}`;
      const needs = j > 0 && j % 4 === 0 ? `  needs: [job-${f}-${j - 3}]\n` : "";
      const rules = j % 5 === 0 ? "  rules:\n    - !reference [.rules, rules]\n" : "";
      return `${name}:\n  extends: ${j % 2 ? ".test" : ".base"}\n  stage: ${["build", "test", "deploy"][j % 3]}\n${needs}${rules}  script:\n    - echo ${name}\n    - make check-${j}\n`;
    });
    writeFileSync(join(dir, "ci", `part-${f}.yml`), jobs.join(""));
  }
  const values = (prefix: string) => `[${Array.from({ length: 10 }, (_, i) => `${prefix}${i}`).join(", ")}]`;
  writeFileSync(join(dir, ".gitlab-ci.yml"), [
    "stages: [build, test, deploy]",
    "variables: { GLOBAL: one }",
    "include:",
    "  - local: ci/templates.yml",
    "  - local: ci/part-*.yml",
    "matrix:",
    "  extends: .base",
    "  stage: deploy",
    "  script: [echo $OS $ARCH]",
    "  parallel:",
    "    matrix:",
    `      - OS: ${values("os")}`,
    `        ARCH: ${values("arch")}`,
  ].join("\n"));
  return dir;
}

function stats(times: number[]): string {
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return `median ${q(0.5).toFixed(1)} ms  min ${times[0]!.toFixed(1)} ms  p90 ${q(0.9).toFixed(1)} ms  (n=${times.length})`;
}

function wall(argv: string[], cwd: string): number[] {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const result = Bun.spawnSync(argv, { cwd, env, stdout: "ignore", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${result.exitCode}: ${result.stderr}`);
    if (i > 0) times.push(performance.now() - started);
  }
  return times;
}

const dir = fixture();
const text = await Bun.file(join(dir, ".gitlab-ci.yml")).text();
const context = {
  ruleVariables: () => ({ CI_COMMIT_BRANCH: "main", CI_COMMIT_REF_NAME: "main", CI_PIPELINE_SOURCE: "push" }),
  changedFiles: () => undefined,
  trackedFiles: () => [],
};
let jobCount = 0;
const inProcess: number[] = [];
for (let i = 0; i <= RUNS; i++) {
  const started = performance.now();
  const pipeline = readPipeline(parseYamlFile(".gitlab-ci.yml", text), { includes: projectIncludes(dir, parseYamlFile) });
  const plan = planRun(pipeline, { context });
  if (i > 0) inProcess.push(performance.now() - started);
  jobCount = pipeline.jobs.length;
  if (plan.jobs.length === 0) throw new Error("nothing planned");
}

console.log(`planning a ${jobCount}-job pipeline (21 included files, extends, !reference, rules, a 10x10 matrix)`);
console.log(`  in process (parse + include + extend + validate + plan): ${stats(inProcess)}`);
console.log(`  runner exec --dry-run --no-cache:                       ${stats(wall([BINARY, "exec", "--dry-run", "--no-cache"], dir))}`);
console.log(`  runner exec --dry-run (plan cache hit):                   ${stats(wall([BINARY, "exec", "--dry-run"], dir))}`);
console.log(`  runner lint:                                            ${stats(wall([BINARY, "lint"], dir))}`);
console.log(`  runner --version (process start, for reference):        ${stats(wall([BINARY, "--version"], dir))}`);
