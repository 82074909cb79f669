import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { BuildDirectories, Executor, StageCommand, StageOutput } from "../executor.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { stdinScript } from "../../shell/launch.ts";
import { localFiles } from "../local-files.ts";
import { JobProcesses } from "../../shell/job-processes.ts";
import { startProcess, type StartedProcess } from "../../shell/supervisor.ts";

/** The host variables a local shell job keeps: enough to find programs and a home, nothing more. */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"];

export interface ShellExecutorOptions {
  readonly shell: ShellName;
  readonly directories: BuildDirectories;
  /** The environment the runner itself was started with; only {@link INHERITED} keys are passed on. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** How long a stage's process group has after TERM before KILL (default 5000 ms). */
  readonly graceMs?: number;
  /** Where the job's processes are tracked (default: a cgroup where one can be made, else the environment marker). */
  readonly processes?: JobProcesses;
}

/**
 * Runs every stage as a fresh `bash` (or `sh`) process on this machine, the script on its standard
 * input, in a process group of its own. Only the build directory is shared between stages.
 */
export function createShellExecutor(options: ShellExecutorOptions): Executor {
  const processes = options.processes ?? new JobProcesses();
  const graceMs = options.graceMs ?? 5000;
  const env = { ...baseEnvironment(options.hostEnv), ...processes.environment };
  const launch = stdinScript(options.shell, { joinCgroup: processes.joinFile });
  const startShell = () => startProcess(launch.argv, { cwd: options.directories.buildsDir, env });
  // One idle shell is kept started, so that its start-up, and its move into the job's cgroup, overlap
  // the stage before it. It is still a fresh process for each stage: a spare only ever runs one
  // script. The first is started with the executor when its directory is there (a kept one), so
  // that it is ready while the job's trace and sections are set up.
  let spare: StartedProcess | undefined = existsSync(options.directories.buildsDir) ? startShell() : undefined;
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
      await mkdir(options.directories.buildsDir, { recursive: true });
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
      const result = await running;
      return { exitCode: result.exitCode };
    },
    async cleanup() {
      const idle = spare;
      spare = undefined;
      await idle?.discard();
      // The last sweep reads every process's environment too: nothing the job started outlives it.
      await processes.stopAll({ graceMs, thorough: true });
      processes.dispose();
    },
  };
}

function baseEnvironment(hostEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = hostEnv[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(hostEnv)) {
    if (key.startsWith("LC_") && value !== undefined) env[key] = value;
  }
  env.PATH ??= "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return env;
}
