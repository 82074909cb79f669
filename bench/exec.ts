/**
 * Times `dist/runner exec` on a fixture repository: one trivial job, and a 50-job, 3-stage pipeline.
 * The runner's overhead is the run's wall time less that of the bare script (`bash -c 'echo hi'`).
 * Prints figures; asserts nothing. Run with `bun run bench` after `bun run build`.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { scratchDir } from "./scratch.ts";

const BINARY = resolve(import.meta.dir, "../dist/runner");
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const env = {
  PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root",
  GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.com", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.com",
};

function sh(cwd: string, ...argv: string[]): void {
  const result = Bun.spawnSync(argv, { cwd, env });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr.toString()}`);
}

function fixture(pipeline: string): string {
  const dir = scratchDir("runner-bench-");
  sh(dir, "git", "init", "-q", "-b", "main");
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, `src-${i}.txt`), `file ${i}\n`.repeat(50));
  writeFileSync(join(dir, ".gitlab-ci.yml"), pipeline);
  sh(dir, "git", "add", ".");
  sh(dir, "git", "commit", "-q", "-m", "bench");
  return dir;
}

/** Wall times in ms of `runs` runs of argv, after one warm-up run. */
function time(argv: string[], cwd: string, runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    const result = Bun.spawnSync(argv, { cwd, env, stdout: "ignore", stderr: "pipe" });
    const took = performance.now() - started;
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${result.exitCode}: ${result.stderr}`);
    if (i > 0) times.push(took);
  }
  return times.sort((a, b) => a - b);
}

function stats(times: number[]): string {
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return `median ${q(0.5).toFixed(1)} ms  min ${times[0]!.toFixed(1)} ms  p90 ${q(0.9).toFixed(1)} ms  (n=${times.length})`;
}

const median = (times: number[]) => times[Math.floor(times.length / 2)]!;

const trivial = fixture("trivial:\n  script: echo hi\n");
const bare = time(["bash", "-c", "echo hi"], trivial, RUNS);
const version = time([BINARY, "--version"], trivial, RUNS);
const one = time([BINARY, "exec", "trivial"], trivial, RUNS);

const jobs = Array.from({ length: 50 }, (_, i) => {
  const stage = ["build", "test", "deploy"][i % 3];
  return `job-${i}:\n  stage: ${stage}\n  script: echo job ${i}\n`;
}).join("");
const big = fixture(`stages: [build, test, deploy]\n${jobs}`);
const pipeline = time([BINARY, "exec"], big, Math.max(3, Math.floor(RUNS / 5)));

console.log(`runner exec benchmark (${process.platform}/${process.arch}, ${navigator.hardwareConcurrency} cores)`);
console.log(`  bare script (bash -c 'echo hi')     ${stats(bare)}`);
console.log(`  dist/runner --version               ${stats(version)}`);
console.log(`  dist/runner exec, 1 trivial job     ${stats(one)}`);
console.log(`  dist/runner exec, 50 jobs/3 stages  ${stats(pipeline)}`);
console.log(`  runner overhead, 1 trivial job      ${(median(one) - median(bare)).toFixed(1)} ms (target < 30 ms)`);
console.log(`  per job in the 50-job pipeline      ${(median(pipeline) / 50).toFixed(1)} ms`);
