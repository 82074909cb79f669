import { existsSync, mkdirSync } from "node:fs";
import type { BuildDirectories, Executor, StageCommand, StageOutput } from "../executor.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { localFiles } from "../local-files.ts";
import { JobProcesses } from "../../shell/job-processes.ts";
import type { StartedProcess } from "../../shell/supervisor.ts";
import { stageShellStarter, type StartedShell } from "./stage-shell.ts";

export interface ShellExecutorOptions {
  readonly shell: ShellName;
  readonly directories: BuildDirectories;
  /** The environment the runner itself was started with; only a few keys are passed on (stage-shell.ts). */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** How long a stage's process group has after TERM before KILL (default 5000 ms). */
  readonly graceMs?: number;
  /** Where the job's processes are tracked (default: a cgroup where one can be made, else the environment marker). */
  readonly processes?: JobProcesses;
  /** The job's tracking and its first stage shell, started ahead by the run (shell-head-start.ts). */
  readonly started?: StartedShell;
}

/**
 * Runs every stage as a fresh `bash` (or `sh`) process on this machine, the script on its standard
 * input, in a process group of its own. Only the build directory is shared between stages.
 */
export function createShellExecutor(options: ShellExecutorOptions): Executor {
  const processes = options.started?.processes ?? options.processes ?? new JobProcesses();
  const graceMs = options.graceMs ?? 5000;
  const { launch, start: startShell } = stageShellStarter({ ...options, processes });
  // One idle shell is kept started, so that its start-up, and its move into the job's cgroup, overlap
  // the stage before it. It is still a fresh process for each stage: a spare only ever runs one
  // script. The first is started with the executor when its directory is there (a kept one), so
  // that it is ready while the job's trace and sections are set up, unless one was started before
  // the job was even planned (shell-head-start.ts).
  let spare: StartedProcess | undefined = options.started?.shell ?? (existsSync(options.directories.buildsDir) ? startShell() : undefined);
  let lastSweep: Promise<unknown> | undefined;
  return {
    name: "shell",
    shell: options.shell,
    description: `Using Shell (${options.shell}) executor...`,
    describeExit: (code) => `exit status ${code}`,
    environment: "shared",
    directories: options.directories,
    local: true,
    files: localFiles,
    async prepare() {
      mkdirSync(options.directories.buildsDir, { recursive: true });
      spare ??= startShell();
    },
    async run(command: StageCommand, output: StageOutput) {
      const shell = spare ?? startShell();
      spare = undefined;
      const running = shell.run({
        stdin: launch.input(command.script),
        onStdout: (chunk) => output.stdout.write(chunk),
        onStderr: (chunk) => output.stderr.write(chunk),
        signal: command.signal,
        graceMs,
        // What left the stage's group (setsid) goes with it; the idle shell of the next stage (its group) stays.
        stopStrays: () => processes.stopAll({ keep: spare ? [spare.pid] : [], graceMs }),
      });
      if (command.stage !== "cleanup_file_variables") spare = startShell();
      // The job's last stage runs only the runner's own script, so the last sweep, which reads every
      // process's environment (1.2-2 ms), is made while it runs, its group kept.
      else lastSweep = processes.stopAll({ keep: [shell.pid], graceMs, thorough: true });
      const result = await running;
      return { exitCode: result.exitCode };
    },
    async cleanup() {
      const idle = spare;
      spare = undefined;
      await idle?.discard();
      // The last sweep reads every process's environment too: nothing the job started outlives it.
      // Made during the last stage, what came since was looked for when that stage ended (its
      // strays: the cgroup, or without one the environment).
      await (lastSweep ?? processes.stopAll({ graceMs, thorough: true }));
      processes.dispose();
    },
  };
}
