import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerApi } from "../../src/executors/docker/docker-api.ts";
import { createDockerExecutor } from "../../src/executors/docker/docker-executor.ts";
import type { Executor } from "../../src/executors/executor.ts";
import { createShellExecutor } from "../../src/executors/shell/shell-executor.ts";
import { createSshExecutor } from "../../src/executors/ssh/ssh-executor.ts";
import type { JobResponse } from "../../src/protocol/types.ts";
import { JobProcesses } from "../../src/shell/job-processes.ts";
import { runJob, type JobOutcome } from "../../src/steps/run-job.ts";
import { BUSYBOX, DEBIAN, dockerAvailable, ENGINE_SETTINGS, startDocker } from "./docker.ts";
import { plain, testSignals } from "./job.ts";
import { sshdAvailable, startSshd, type TestSshd } from "./sshd.ts";

/** One executor of the matrix a suite runs on: its name and how to make a fresh one per job. */
export interface ExecutorCase {
  readonly name: string;
  readonly make: () => Executor;
}

/**
 * The executors every cross-executor suite runs on, against real parts: the shell executor (with
 * its cgroup where one can be made, and with the environment marker only, as on macOS or in a
 * container), the SSH executor against a real sshd, the Docker executor against a real dockerd.
 * Call `start` in `beforeAll` and `stop` in `afterAll`.
 */
export function executorMatrix(): { cases: ExecutorCase[]; start(): Promise<void>; stop(): Promise<void> } {
  const docker = dockerAvailable();
  const ssh = sshdAvailable();
  let sshd: TestSshd | undefined;
  let counter = 0;
  const cases: ExecutorCase[] = [
    ...([["shell", undefined], ["shell, marker only (no cgroup: macOS, containers)", null]] as const).map(([name, cgroupRoot]) => ({
      name,
      make: () => {
        const buildsDir = mkdtempSync(join(tmpdir(), "runner-matrix-"));
        return createShellExecutor({
          shell: "bash", hostEnv: process.env, graceMs: 300,
          directories: { buildsDir, projectDir: join(buildsDir, "p"), tmpDir: join(buildsDir, "p.tmp") },
          processes: new JobProcesses({ cgroupRoot }),
        });
      },
    })),
    ...(ssh ? [{
      name: "ssh",
      make: () => createSshExecutor({
        settings: { host: "127.0.0.1", port: sshd!.port, user: "root", identityFile: sshd!.clientKey, knownHostsFile: sshd!.knownHosts, disableStrictHostKeyChecking: false },
        buildsDir: mkdtempSync(join(tmpdir(), "runner-matrix-ssh-")), projectPath: "t/0/p", graceMs: 300,
      }),
    }] : []),
    ...(docker ? [{
      name: "docker",
      make: () => createDockerExecutor({
        api: new DockerApi(), owner: { runner: "test", job: `matrix-${process.pid}-${++counter}` }, projectPath: "p", graceMs: 300,
        settings: { ...ENGINE_SETTINGS }, image: { name: DEBIAN, pullPolicies: ["if-not-present"] }, helperImage: { name: BUSYBOX, pullPolicies: ["if-not-present"] },
      }),
    }] : []),
  ];
  return {
    cases,
    async start() {
      if (docker) await startDocker();
      if (ssh) sshd = await startSshd();
    },
    async stop() {
      await sshd?.stop();
    },
  };
}

/** Runs `job` on `executor` to its end; cancels it after `cancelAfterMs` when given. */
export async function runOn(executor: Executor, job: JobResponse, options: { cancelAfterMs?: number } = {}) {
  const signals = testSignals();
  const chunks: string[] = [];
  if (options.cancelAfterMs !== undefined) setTimeout(() => signals.cancel_(), options.cancelAfterMs);
  const started = performance.now();
  const outcome: JobOutcome = await runJob({
    job, executor, sources: { kind: "git" }, settings: { userAgent: "runner test" }, runner: { name: "matrix" }, signals,
    sink: { write: (b) => void chunks.push(new TextDecoder().decode(b)) },
  });
  return { outcome, raw: chunks.join(""), trace: plain(chunks.join("")), seconds: (performance.now() - started) / 1000 };
}
