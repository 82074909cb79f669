/**
 * Times the daemon against the fake GitLab of tests/ (on 127.0.0.1): job pickup latency (job queued →
 * first trace PATCH) and trace throughput of a job printing 1 GiB, with the runner's peak RSS.
 * Prints figures; asserts nothing. Run after `bun run build`: `bun bench/daemon.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FakeGitLab } from "../tests/fake-gitlab/fake-gitlab.ts";
import { scratchDir } from "./scratch.ts";

const BINARY = process.env.BENCH_BINARY ?? resolve(import.meta.dir, "../dist/runner");
const PICKUPS = Number(process.env.BENCH_PICKUPS ?? 20);
const TRACE_MIB = Number(process.env.BENCH_TRACE_MIB ?? 1024);

const fake = await new FakeGitLab().start();
fake.longPollMs = 50_000;
fake.keepTraces = false;
const dir = scratchDir("runner-bench-daemon-");
writeFileSync(join(dir, "config.toml"), [
  "concurrent = 2", "check_interval = 1",
  "[[runners]]", '  name = "bench"', `  url = "${fake.url}"`, `  token = "${fake.runnerToken}"`, '  executor = "shell"',
  `  builds_dir = "${join(dir, "builds")}"`,
  // Big enough that the whole trace is stored and sent: each 100-byte line gains a 32-byte timestamp.
  `  output_limit = ${TRACE_MIB * 2048}`,
].join("\n"));
const child = Bun.spawn([BINARY, "run", "--config", join(dir, "config.toml")], { cwd: dir, stdout: "ignore", stderr: "ignore" });

/** CPU seconds the runner has used so far (user, system), from /proc. */
function cpuTimes(): { user: number; system: number } {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}
const cpuSeconds = () => cpuTimes().user + cpuTimes().system;

/** The runner's peak resident set so far, from /proc. */
function peakRssMiB(): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

// Pickup latency: the runner is long-polling; a job is queued; the clock stops at its first PATCH.
await Bun.sleep(500);
const latencies: number[] = [];
for (let i = 0; i < PICKUPS; i++) {
  const queued = performance.now();
  const id = fake.enqueue(["echo hello"]);
  const job = await fake.finished(id);
  latencies.push((job.firstPatchAt ?? Number.NaN) - queued);
}
latencies.sort((a, b) => a - b);

// Throughput: one job writes TRACE_MIB MiB of 100-byte lines; the clock runs from pickup to the final update.
const rssBefore = peakRssMiB();
const cpuBefore = cpuSeconds();
const userBefore = cpuTimes().user;
const fakeBefore = process.cpuUsage();
// The script notes when it starts and ends writing: a pipe holds 64 KiB, so the writer can finish
// only once the runner has read, masked, stamped and stored all but the last of it.
const marks = join(dir, "marks");
const id = fake.enqueue([
  `date +%s%N > ${marks}`,
  `{ yes 'a line of trace output, ninety-nine bytes long, as a build tool might print it, over and over ..' || true; } | head -c ${TRACE_MIB}M`,
  `date +%s%N >> ${marks}`,
]);
const started = performance.now();
const job = await fake.finished(id);
const finishedAt = Date.now();
const seconds = (performance.now() - started) / 1000;
const [writeStart, writeEnd] = readFileSync(marks, "utf8").trim().split("\n").map((ns) => Number(BigInt(ns) / 1000n) / 1e6);
const ingestSeconds = writeEnd! - writeStart!;
// The final flush starts when the job's script has ended: GitLab Runner sends one PATCH per update
// interval while a job runs (network/trace.go), so nearly all of a loud job's trace goes after it.
const flushSeconds = finishedAt / 1000 - writeEnd!;
const rss = peakRssMiB();
const cpu = cpuSeconds() - cpuBefore;
const user = cpuTimes().user - userBefore;
const fakeUsage = process.cpuUsage(fakeBefore);
const fakeCpu = (fakeUsage.user + fakeUsage.system) / 1e6;
child.kill("SIGQUIT");
await child.exited;
await fake.stop();

const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
console.log(`runner daemon benchmark (fake GitLab on 127.0.0.1, ${navigator.hardwareConcurrency} cores)`);
console.log(`  pickup latency (queued → first PATCH)  median ${q(0.5).toFixed(1)} ms  p90 ${q(0.9).toFixed(1)} ms  (n=${latencies.length}; target ≤ 50 ms median)`);
console.log(`  trace throughput                       ${(TRACE_MIB * 1048576 / 1e6 / seconds).toFixed(0)} MB/s of job output  (${TRACE_MIB} MiB printed, ${(job.traceLength / 1048576).toFixed(0)} MiB of timestamped trace sent, pickup to final update in ${seconds.toFixed(1)} s; target ≥ 300 MB/s)`);
console.log(`  through masking and timestamps         ${(TRACE_MIB * 1048576 / 1e6 / ingestSeconds).toFixed(0)} MB/s  (the script's ${TRACE_MIB} MiB written in ${ingestSeconds.toFixed(2)} s: read, masked, stamped and stored by the runner as it came; target ≥ 300 MB/s)`);
console.log(`  of which the final flush               ${flushSeconds.toFixed(2)} s  (${job.patches} PATCHes of at most 1 MiB, one at a time, after the script ended)`);
console.log(`  runner CPU for that job                ${cpu.toFixed(2)} s  (user ${user.toFixed(2)} s, system ${(cpu - user).toFixed(2)} s; ${(job.traceLength / 1e6 / cpu).toFixed(0)} MB of trace per CPU second; the job's producer and the fake GitLab share the 2 cores)`);
console.log(`  fake GitLab CPU (this process)         ${fakeCpu.toFixed(2)} s  (receiving the trace over node:http on the same cores)`);
console.log(`  runner peak RSS                        ${rss.toFixed(0)} MiB  (before the big job ${rssBefore.toFixed(0)} MiB; target ≤ 128 MiB)`);
console.log(`  job state                              ${job.status}, ${fake.deviations.length} protocol deviations`);
