import { stdinScript } from "../../shell/launch.ts";
import type { JobProcesses } from "../../shell/job-processes.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { startProcess, type StartedProcess } from "../../shell/supervisor.ts";

/** The host variables a local shell job keeps: enough to find programs and a home, nothing more. */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"];

/** A job's process tracking (its cgroup, its mark) with the shell of its first stage already started. */
export interface StartedShell {
  readonly processes: JobProcesses;
  readonly shell: StartedProcess;
}

/**
 * How a job's stage shells are started: `launch` is how a shell reads its stage's script, `start`
 * starts one (waiting for its script) in the builds directory with the host's few variables
 * ({@link INHERITED}, `LC_*`) and the job's tracking mark.
 */
export function stageShellStarter(options: {
  shell: ShellName;
  hostEnv: Readonly<Record<string, string | undefined>>;
  directories: { readonly buildsDir: string };
  processes: JobProcesses;
}): { launch: ReturnType<typeof stdinScript>; start: () => StartedProcess } {
  const env = { ...baseEnvironment(options.hostEnv), ...options.processes.environment };
  const launch = stdinScript(options.shell, { joinCgroup: options.processes.joinFile });
  return { launch, start: () => startProcess(launch.argv, { cwd: options.directories.buildsDir, env, sharedOutput: true }) };
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
