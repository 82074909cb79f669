/**
 * The floor under `runner exec` on this machine: what the processes of a local run cost with
 * nothing of the runner around them. A compiled Bun program's start (hello world); the three git
 * calls a run makes, at once; a job's three stage shells, started as the shell executor starts
 * them (a process group each, pipes, the script on stdin through src/shell/launch.ts, each started
 * while the one before runs) with scripts of a real job's sizes (prepare 4.7 KB, step_script
 * 4.7 KB, cleanup 0.2 KB, which runs `rm`); and pipelines of 5 and 50 such jobs, stage by stage,
 * `cores` at once.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stdinScript } from "../src/shell/launch.ts";
import { scratchDir } from "./scratch.ts";

const launch = stdinScript("bash");
const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root", LANG: "C.UTF-8" };

/** A script of about `bytes`, exports like a real stage's prelude, then `tail`. */
function stageScript(bytes: number, tail: string): string {
  const lines = ["{", "set -eo pipefail", "set +o noclobber"];
  for (let i = 0; lines.join("\n").length < bytes - tail.length - 8; i++) lines.push(`export CI_BENCH_VARIABLE_${i}=$'value of variable ${i}'`);
  return `${lines.join("\n")}\n${tail}\n}\n`;
}

function startShell(cwd: string) {
  return Bun.spawn([...launch.argv], { cwd, env, stdin: "pipe", stdout: "pipe", stderr: "pipe", detached: true });
}

async function runShell(child: ReturnType<typeof startShell>, script: string): Promise<void> {
  child.stdin.write(launch.input(script));
  await child.stdin.end();
  await Promise.all([new Response(child.stdout).arrayBuffer(), new Response(child.stderr).arrayBuffer(), child.exited]);
}

/**
 * One job's stage shells in a fresh directory of `root`, one after another, each started while the
 * one before it runs (as the shell executor keeps a spare).
 */
async function jobShells(root: string, index: number): Promise<void> {
  const dir = join(root, `job-${index}`);
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const scripts = [
    stageScript(4_700, 'echo "Running on ${HOSTNAME:-host}..."'), stageScript(4_700, "echo hi"), stageScript(160, `rm -r -f ${dir}/tmp`),
  ];
  let next = startShell(dir);
  for (const [i, script] of scripts.entries()) {
    const shell = next;
    const running = runShell(shell, script);
    if (i + 1 < scripts.length) next = startShell(dir);
    await running;
  }
}

const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The floor's parts, medians of `runs`; `repository` is a fixture for the git calls. */
export async function processFloor(runs: number, repository: string, cores: number) {
  const scratch = scratchDir("runner-floor-");
  writeFileSync(join(scratch, "hello.ts"), 'console.log("hi");\n');
  const built = Bun.spawnSync([process.execPath, "build", "--compile", "--bytecode", join(scratch, "hello.ts"), "--outfile", join(scratch, "hello")], { stdout: "ignore", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`bun build --compile: ${built.stderr}`);
  const spawned = (argv: string[], cwd: string) => Bun.spawn(argv, { cwd, env, stdout: "pipe", stderr: "ignore" }).exited;
  const git = () => Promise.all([
    spawned(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], repository),
    spawned(["git", "log", "-1", "--format=%H%x1f%D%x1f%an%x1f%ae%x1f%cI%x1f%B"], repository),
    spawned(["git", "for-each-ref", "--format=%(refname)%00%(objectname)", "refs/remotes/origin/main", "refs/heads/main"], repository),
  ]);
  const pipeline = async (root: string, jobs: number) => {
    for (let s = 0; s < 3; s++) {
      const queue = Array.from({ length: jobs }, (_, i) => i).filter((i) => i % 3 === s);
      await Promise.all(Array.from({ length: cores }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) await jobShells(root, i);
      }));
    }
  };
  const parts = { bunStart: [] as number[], git: [] as number[], jobShells: [] as number[], fiveJobs: [] as number[], fiftyJobs: [] as number[] };
  for (let i = 0; i <= runs; i++) {
    const round = {
      bunStart: await timed(() => spawned([join(scratch, "hello")], scratch)),
      git: await timed(git),
      jobShells: await timed(() => jobShells(join(scratch, `one-${i}`), 0)),
      fiveJobs: await timed(() => pipeline(join(scratch, `five-${i}`), 5)),
      fiftyJobs: await timed(() => pipeline(join(scratch, `fifty-${i}`), 50)),
    };
    if (i > 0) for (const key of Object.keys(parts) as (keyof typeof parts)[]) parts[key].push(round[key]);
  }
  return Object.fromEntries(Object.entries(parts).map(([key, times]) => [key, median(times)])) as Record<keyof typeof parts, number>;
}
