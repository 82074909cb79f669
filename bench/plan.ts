/**
 * Times planning a 500-job pipeline made with includes, extends, !reference, rules and a matrix:
 * in process (parse, include, extend, validate, plan — the work `runner exec` and `runner lint` do)
 * and end to end through `dist/runner exec --dry-run` (with and without the plan cache) and
 * `dist/runner lint`. Prints figures; asserts nothing. Run with `bun bench/plan.ts` after a build.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readPipeline } from "../src/pipeline/definitions.ts";
import { projectIncludes } from "../src/pipeline/pipeline-cache.ts";
import { planRun } from "../src/pipeline/plan.ts";
import { parseYamlFile } from "../src/pipeline/yaml-file.ts";
import { scratchDir } from "./scratch.ts";

const BINARY = resolve(import.meta.dir, "../dist/runner");
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

/**
 * `parts` included files of 20 jobs, some with rules and needs, templates, and an `os` × `arch`
 * matrix job: 20 parts and 10 × 10 make 500 jobs in 22 files; 7 parts and 10 × 5 make 190 jobs in
 * 9 files (the size of a real project's pipeline).
 */
function fixture(parts: number, arches: number): string {
  const dir = scratchDir("runner-bench-plan-");
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
  for (let f = 0; f < parts; f++) {
    const jobs = Array.from({ length: 20 }, (_, j) => {
      const name = `job-${f}-${j}`;
      const needs = j > 0 && j % 4 === 0 ? `  needs: [job-${f}-${j - 3}]\n` : "";
      const rules = j % 5 === 0 ? "  rules:\n    - !reference [.rules, rules]\n" : "";
      // About 400 bytes a job, as real ones: variables, a cache, a multi-line script, reports.
      return `${name}:\n  extends: ${j % 2 ? ".test" : ".base"}\n  stage: ${["build", "test", "deploy"][j % 3]}\n${needs}${rules}` +
        `  variables:\n    TARGET: target-${j}\n    GOFLAGS: "-mod=readonly -trimpath"\n` +
        `  cache:\n    key: deps-${f}\n    paths: [vendor/, .cache/go-build/]\n` +
        `  script:\n    - echo ${name}\n    - make deps TARGET=$TARGET\n    - make check-${j} | tee out/check-${j}.log\n` +
        `    - |\n      if [ -n "$CI_COMMIT_TAG" ]; then\n        make release-${j}\n      fi\n` +
        `  artifacts:\n    reports:\n      junit: out/report-${j}.xml\n`;
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
    `        ARCH: [${Array.from({ length: arches }, (_, i) => `arch${i}`).join(", ")}]`,
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

const dir = fixture(20, 10);
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

console.log(`planning a ${jobCount}-job pipeline (22 files: includes, extends, !reference, rules, a 10x10 matrix)`);
console.log(`  in process (parse + include + extend + validate + plan): ${stats(inProcess)}`);
for (const [name, at] of [["500 jobs, 22 files", dir], ["190 jobs, 9 files", fixture(7, 5)]] as const) {
  console.log(`  ${name}, cold processes:`);
  console.log(`    runner exec --dry-run --no-cache:                     ${stats(wall([BINARY, "exec", "--dry-run", "--no-cache"], at))}`);
  console.log(`    runner exec --dry-run (plan cache hit):               ${stats(wall([BINARY, "exec", "--dry-run"], at))}`);
  console.log(`    runner lint:                                          ${stats(wall([BINARY, "lint"], at))}`);
}
console.log(`  runner --version (process start, for reference):        ${stats(wall([BINARY, "--version"], dir))}`);
