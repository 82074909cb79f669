import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createShellExecutor } from "../../src/executors/shell/shell-executor.ts";
import { ShellHeadStart } from "../../src/executors/shell/shell-head-start.ts";
import { JobProcesses, TRACKING_VARIABLE } from "../../src/shell/job-processes.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
const hostEnv = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

/** The tracking ids of the processes on this machine that carry one. */
function trackedIds(): Set<string> {
  const ids = new Set<string>();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const entry = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").find((e) => e.startsWith(`${TRACKING_VARIABLE}=`));
      if (entry) ids.add(entry.slice(TRACKING_VARIABLE.length + 1));
    } catch {
      // Gone, or a zombie.
    }
  }
  return ids;
}

/** Where the jobs' cgroups are made, when this machine lets a job have one. */
const cgroupRoot = (() => {
  const probe = new JobProcesses();
  const root = probe.joinFile ? dirname(dirname(probe.joinFile)) : undefined;
  probe.dispose();
  return root;
})();
const cgroups = () => new Set(cgroupRoot ? readdirSync(cgroupRoot).filter((name) => name.startsWith("runner-")) : []);
const newOnes = (now: Set<string>, before: Set<string>) => [...now].filter((id) => !before.has(id));
/** The tracking ids new since `before`, once a started process shows its own environment (it may not have exec'd yet). */
async function startedSince(before: Set<string>): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const found = newOnes(trackedIds(), before);
    if (found.length > 0) return found;
    await Bun.sleep(10);
  }
  return [];
}

const dirs: string[] = [];
const buildsDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "runner-head-start-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  if (process.env.CI === "true" && !cgroupRoot) throw new Error("no writable cgroup v2 hierarchy in CI");
});

describe("the first shell, started before the run is planned (src/executors/shell/shell-head-start.ts)", () => {
  test("one job claims it: only for its shell and builds directory, only once; its stage runs in it, tracked and in its cgroup", async () => {
    const builds = buildsDir();
    const before = trackedIds();
    const headStart = new ShellHeadStart({ shell: "bash", buildsDir: builds, hostEnv });
    const [started] = await startedSince(before);
    expect(started).toBeDefined();
    expect(headStart.claim("sh", builds)).toBeUndefined();
    expect(headStart.claim("bash", buildsDir())).toBeUndefined();
    const claimed = headStart.claim("bash", builds)!;
    expect(claimed.processes.id).toBe(started!);
    expect(headStart.claim("bash", builds)).toBeUndefined();
    await headStart.discard(); // Nothing of the claimed job's is stopped.

    const projectDir = join(builds, "job");
    const executor = createShellExecutor({ shell: "bash", hostEnv, directories: { buildsDir: builds, projectDir, tmpDir: `${projectDir}.tmp` }, started: claimed });
    await executor.prepare({} as never);
    let out = "";
    const output = { stdout: { write: (b: Uint8Array) => void (out += new TextDecoder().decode(b)) }, stderr: { write: () => {} } };
    const { exitCode } = await executor.run({ stage: "prepare_script", script: `echo "id=$${TRACKING_VARIABLE} pid=$$"; cat /proc/self/cgroup\n`, signal: new AbortController().signal } as never, output as never);
    expect(exitCode).toBe(0);
    expect(out).toContain(`id=${started} pid=${claimed.shell.pid}`);
    if (cgroupRoot) expect(out).toContain(`/${started}\n`);
    await executor.cleanup({ failed: false, log: () => {} } as never);
    expect(trackedIds().has(started!)).toBe(false);
    expect(cgroups().has(started!)).toBe(false);
  }, 30_000);

  test("unclaimed, it is discarded: the shell is gone and its cgroup removed", async () => {
    const before = trackedIds();
    const cgroupsBefore = cgroups();
    const headStart = new ShellHeadStart({ shell: "bash", buildsDir: buildsDir(), hostEnv });
    const [started] = await startedSince(before);
    expect(started).toBeDefined();
    if (cgroupRoot) expect(newOnes(cgroups(), cgroupsBefore)).toEqual([started!]);
    await headStart.discard();
    expect(trackedIds().has(started!)).toBe(false);
    expect(cgroups().has(started!)).toBe(false);
  }, 30_000);

  test("into a builds directory that is not there yet, nothing is started", async () => {
    const before = trackedIds();
    const missing = join(buildsDir(), "not-yet");
    const headStart = new ShellHeadStart({ shell: "bash", buildsDir: missing, hostEnv });
    await Bun.sleep(100); // Long enough for a started shell to show its environment.
    expect(newOnes(trackedIds(), before)).toEqual([]);
    expect(headStart.claim("bash", missing)).toBeUndefined();
    expect(existsSync(missing)).toBe(false);
  });

  test("`runner exec` leaves no shell and no cgroup behind when no job takes it: a broken file, --list, a job on another executor", () => {
    const project = buildsDir();
    mkdirSync(join(project, ".runner", "builds"), { recursive: true });
    const run = (args: string[], pipeline: string) => {
      writeFileSync(join(project, ".gitlab-ci.yml"), pipeline);
      return Bun.spawnSync([BINARY, "exec", ...args], { cwd: project, env: hostEnv, stdout: "pipe", stderr: "pipe" });
    };
    const before = trackedIds();
    const cgroupsBefore = cgroups();
    expect(run([], "job:\n  script: [echo hi\n").exitCode).toBe(2);
    expect(run(["--list"], "job:\n  script: echo hi\n").exitCode).toBe(0);
    // Custom executor with a config_exec that fails: the job fails on its executor, never on the shell.
    const failing = run(["--executor", "custom", "--custom-config-exec", "/bin/false", "--custom-run-exec", "/bin/false"], "job:\n  script: echo hi\n");
    expect(failing.exitCode).not.toBe(0);
    // And a job that does run on the shell takes it and ends with it.
    expect(run([], "job:\n  script: echo hi\n").exitCode).toBe(0);
    expect(newOnes(trackedIds(), before)).toEqual([]);
    expect(newOnes(cgroups(), cgroupsBefore)).toEqual([]);
  }, 30_000);
});
