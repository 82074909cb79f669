import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import type { Executor } from "../../src/executors/executor.ts";
import { JobProcesses } from "../../src/shell/job-processes.ts";
import { executorMatrix, runOn } from "../helpers/executors.ts";
import { makeJob } from "../helpers/job.ts";

/**
 * A job that leaves its stage's process group (`setsid`) and keeps the stage's output open, or
 * detaches completely, must neither hang the runner nor outlive the job: it ends on time, on
 * cancel and on timeout, and afterwards no process it started is running. (GitHub's runner marks
 * a job's processes with RUNNER_TRACKING_ID in their environment and kills what carries it after the
 * job; where a cgroup v2 hierarchy is writable the shell executor also holds the job in a cgroup.)
 */

const matrix = executorMatrix();
const executors = matrix.cases;
beforeAll(() => matrix.start(), 300_000);
const figures: string[] = [];
afterAll(async () => {
  await matrix.stop();
  console.log(`orphans after the job, per executor and case:\n  ${figures.join("\n  ")}`);
});

let counter = 0;

/** The processes of this machine whose command line holds `token` (container processes included). */
function survivors(token: string): number[] {
  const out = Bun.spawnSync(["pgrep", "-f", token]).stdout.toString();
  return out.split("\n").filter(Boolean).map(Number);
}

function run(executor: Executor, script: string[], options: { timeout?: number; cancelAfterMs?: number } = {}) {
  return runOn(executor, makeJob(script, { runner_info: { timeout: options.timeout ?? 3600 } }), options);
}

for (const { name, make } of executors) {
  describe(`no process of a job outlives it (${name} executor)`, () => {
    test("a setsid child holding the stage's output does not hold the job, and is gone after it", async () => {
      const token = `${4000 + ++counter}.${process.pid}`;
      const { outcome, trace, seconds } = await run(make(), [`setsid sleep ${token} &`, "echo started"]);
      expect(outcome.status, trace).toBe("success");
      // Every stage ran its script (the idle shell of the next stage was not taken for a stray).
      expect(trace).toContain("$ echo started\nstarted\n");
      expect(seconds).toBeLessThan(15);
      await Bun.sleep(100);
      figures.push(`${name} end of job (setsid holding stdout): ${survivors(token).length}`);
      expect(survivors(token)).toEqual([]);
    }, 30_000);

    test("a fully detached child (setsid, no output, nohup) is gone after the job", async () => {
      const token = `${4000 + ++counter}.${process.pid}`;
      const { outcome } = await run(make(), [`setsid nohup sh -c 'sleep ${token}' </dev/null >/dev/null 2>&1 &`, "sleep 0.2"]);
      expect(outcome.status).toBe("success");
      await Bun.sleep(100);
      figures.push(`${name} end of job (detached): ${survivors(token).length}`);
      expect(survivors(token)).toEqual([]);
    }, 30_000);

    test("cancel ends the job while a setsid child holds its output; nothing survives", async () => {
      const token = `${4000 + ++counter}.${process.pid}`;
      const { outcome, seconds } = await run(make(), [`setsid sleep ${token} &`, "sleep 300"], { cancelAfterMs: 1500 });
      expect(outcome.status).toBe("canceled");
      expect(seconds).toBeLessThan(15);
      await Bun.sleep(100);
      figures.push(`${name} cancel: ${survivors(token).length}`);
      expect(survivors(token)).toEqual([]);
    }, 30_000);

    test("the job timeout ends the job while a setsid child holds its output; nothing survives", async () => {
      const token = `${4000 + ++counter}.${process.pid}`;
      const { outcome, seconds } = await run(make(), [`setsid sleep ${token} &`, "sleep 300"], { timeout: 2 });
      expect(outcome.failure?.failureReason).toBe("job_execution_timeout");
      expect(seconds).toBeLessThan(15);
      await Bun.sleep(100);
      figures.push(`${name} timeout: ${survivors(token).length}`);
      expect(survivors(token)).toEqual([]);
    }, 30_000);
  });
}

/**
 * Where jobs' cgroups are made on this machine (a probe, removed again), or undefined with a
 * warning where none can be; CI must have one.
 */
function writableCgroupRoot(): string | undefined {
  const probe = new JobProcesses();
  const root = probe.joinFile ? dirname(dirname(probe.joinFile)) : undefined;
  probe.dispose();
  if (!root) {
    if (process.env.CI === "true") throw new Error("no writable cgroup v2 hierarchy in CI");
    console.warn("!!! no writable cgroup v2 hierarchy here: only the environment marker tracks processes !!!");
  }
  return root;
}

describe("the shell executor's cgroup (Linux, cgroup v2 writable)", () => {
  test("even a child that clears its environment and detaches is gone after the job", async () => {
    if (!writableCgroupRoot()) return;
    const token = `${4000 + ++counter}.${process.pid}`;
    const { outcome } = await run(executors[0]!.make(), [`env -i setsid sh -c 'sleep ${token}' </dev/null >/dev/null 2>&1 &`, "sleep 0.2"]);
    expect(outcome.status).toBe("success");
    await Bun.sleep(100);
    figures.push(`shell end of job (env -i, detached): ${survivors(token).length}`);
    expect(survivors(token)).toEqual([]);
  }, 30_000);

  test("a child moved out of the job's cgroup (as root can) but still carrying the job's mark is gone after the job", async () => {
    const root = writableCgroupRoot();
    if (!root) return;
    const token = `${4000 + ++counter}.${process.pid}`;
    // The runner's own cgroup (the job's parent) takes the child: it leaves the job's cgroup, and
    // only the last sweep's look at every process's environment can find it.
    const { outcome } = await run(executors[0]!.make(), [
      `setsid sleep ${token} </dev/null >/dev/null 2>&1 & echo $! > '${root}/cgroup.procs'`,
      `grep -q '^0::.*runner-' /proc/$!/cgroup && exit 9 || true`,
      "sleep 0.2",
    ]);
    expect(outcome.status).toBe("success");
    await Bun.sleep(100);
    figures.push(`shell end of job (moved out of the cgroup, marked): ${survivors(token).length}`);
    expect(survivors(token)).toEqual([]);
  }, 30_000);
});
