/**
 * `runner exec` against gitlab-ci-local (4.75.1, a devDependency, run under Bun with its schema
 * check off: its fastest mode) on the same fixtures, interleaved A B A B, medians and ratios: one
 * trivial job, 5 jobs in 3 stages, 50 jobs in 3 stages (gitlab-ci-local with --shell-isolation, the
 * isolation runner exec always has). Then where a trivial job's time goes, from its run record's
 * phases, and the floor under it: the same processes with no runner around them. Needs `bun run
 * build` and rsync (gitlab-ci-local copies with it). Prints figures; asserts nothing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { processFloor } from "./process-floor.ts";
import { scratchDir } from "./scratch.ts";

const ROOT = resolve(import.meta.dir, "..");
const BINARY = join(ROOT, "dist/runner");
const GCL = join(ROOT, "node_modules/gitlab-ci-local/dist/index.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
// Said before the first round, not as gitlab-ci-local's stack trace from inside it.
if (!Bun.which("rsync")) {
  console.error("gitlab-ci-local copies a project with rsync, which is not on PATH (Debian: apt-get install rsync)");
  process.exit(1);
}
const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root", GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.com", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.com" };

function fixture(pipeline: string): string {
  const dir = scratchDir("runner-vs-gcl-");
  const sh = (...argv: string[]) => Bun.spawnSync(argv, { cwd: dir, env });
  sh("git", "init", "-q", "-b", "main");
  // gitlab-ci-local reads the project's path from its origin.
  sh("git", "remote", "add", "origin", "https://gitlab.example.com/acme/bench.git");
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, `src-${i}.txt`), `file ${i}\n`.repeat(50));
  writeFileSync(join(dir, ".gitlab-ci.yml"), pipeline);
  sh("git", "add", ".");
  sh("git", "commit", "-q", "-m", "bench");
  return dir;
}

const pipelineOf = (n: number) => `stages: [build, test, deploy]\n${Array.from({ length: n }, (_, i) => `job-${i}:\n  stage: ${["build", "test", "deploy"][i % 3]}\n  script: echo job ${i}\n`).join("")}`;
const cases = [
  { name: "one trivial job (echo hi)", dir: fixture("trivial:\n  script: echo hi\n"), runner: [BINARY, "exec", "trivial"], gcl: ["trivial"] },
  { name: "5 jobs, 3 stages", dir: fixture(pipelineOf(5)), runner: [BINARY, "exec"], gcl: [] },
  { name: "50 jobs, 3 stages", dir: fixture(pipelineOf(50)), runner: [BINARY, "exec"], gcl: ["--shell-isolation"] },
];

function timeOnce(argv: string[], cwd: string): number {
  const started = performance.now();
  const r = Bun.spawnSync(argv, { cwd, env, stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return performance.now() - started;
}
const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;

console.log(`runner exec vs gitlab-ci-local (${navigator.hardwareConcurrency} cores, ${RUNS} interleaved rounds, medians)`);
console.log(`  floor: bash -c true ${median(Array.from({ length: RUNS }, () => timeOnce(["bash", "-c", "true"], tmpdir()))).toFixed(1)} ms, runner --version ${median(Array.from({ length: RUNS }, () => timeOnce([BINARY, "--version"], tmpdir()))).toFixed(1)} ms`);
for (const c of cases) {
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const a = timeOnce(c.runner, c.dir);
    const b = timeOnce([process.execPath, GCL, "--no-json-schema-validation", ...c.gcl], c.dir);
    if (i > 0) (mine.push(a), theirs.push(b));
  }
  console.log(`  ${c.name.padEnd(28)} runner ${median(mine).toFixed(0).padStart(5)} ms   gitlab-ci-local ${median(theirs).toFixed(0).padStart(5)} ms   ratio ${(median(mine) / median(theirs)).toFixed(3)}`);
}

// Where a trivial job's time goes: the process against its run record's phases.
const dir = cases[0]!.dir;
const total = timeOnce(cases[0]!.runner, dir);
const job = JSON.parse(readFileSync(join(dir, ".runner/runs/latest/trivial/summary.json"), "utf8")) as { phases: { phase: string; duration_ms: number }[]; duration_ms: number };
console.log(`  a trivial job: ${total.toFixed(0)} ms in all; the job itself ${job.duration_ms} ms:`);
for (const p of job.phases.filter((p) => p.phase !== "execution.script")) console.log(`    ${p.phase.padEnd(22)} ${p.duration_ms} ms`);
console.log(`    before and after the job (start, plan, copy set-up, record, exit): ${(total - job.duration_ms).toFixed(0)} ms`);

// What of that no runner could save: the processes themselves (bench/process-floor.ts).
const cores = navigator.hardwareConcurrency;
const floor = await processFloor(RUNS, dir, cores);
console.log(`  the floor, the same processes with no runner around them (${RUNS} rounds, medians):`);
console.log(`    a compiled Bun hello world             ${floor.bunStart.toFixed(1)} ms`);
console.log(`    the run's three git calls, at once      ${floor.git.toFixed(1)} ms`);
console.log(`    a job's three stage shells, in turn      ${floor.jobShells.toFixed(1)} ms`);
console.log(`    so a trivial job, at the least           ${(floor.bunStart + floor.git + floor.jobShells).toFixed(1)} ms (target 25 ms)`);
console.log(`    5 jobs' stage shells, 3 stages, ${cores} at once  ${floor.fiveJobs.toFixed(0)} ms (target 60 ms, with Bun and git ${(floor.bunStart + floor.git + floor.fiveJobs).toFixed(0)} ms)`);
console.log(`    50 jobs' stage shells, 3 stages, ${cores} at once ${floor.fiftyJobs.toFixed(0)} ms (target 250 ms)`);
