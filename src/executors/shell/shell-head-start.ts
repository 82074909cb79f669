import { existsSync } from "node:fs";
import type { ShellName } from "../../shell/shell-writer.ts";
import { JobProcesses } from "../../shell/job-processes.ts";
import { stageShellStarter, type StartedShell } from "./stage-shell.ts";

/**
 * The first stage shell of a local run's first shell job, started when the run begins, before the
 * pipeline is read and planned. A shell's first act is to move into its job's cgroup, and a move
 * made when the machine has made none for some 20-40 ms waits for an RCU grace period (the kernel's
 * cgroup_threadgroup_rwsem: 12-25 ms measured here with bash alone; right after another move, or
 * with cgroup2's `favordynmods`, nothing; a fresh cgroup costs no more than a used one): started
 * with the job's executor it held up the job's first stage by that much, started here it overlaps
 * the planning. One job claims it, the one whose shell and builds
 * directory it was started for; a run that claims none discards it. The run has one host
 * environment, so that is not compared. As the executor's own spare, it is started only into a
 * builds directory that is there already.
 */
export class ShellHeadStart {
  #ready: (StartedShell & { readonly shellName: ShellName; readonly buildsDir: string }) | undefined;

  constructor(options: { shell: ShellName; buildsDir: string; hostEnv: Readonly<Record<string, string | undefined>> }) {
    if (!existsSync(options.buildsDir)) return;
    const processes = new JobProcesses();
    const { start } = stageShellStarter({ ...options, directories: { buildsDir: options.buildsDir }, processes });
    this.#ready = { processes, shell: start(), shellName: options.shell, buildsDir: options.buildsDir };
  }

  /** The started shell and its job's tracking, for a job of this shell in this builds directory (once). */
  claim(shell: ShellName, buildsDir: string): StartedShell | undefined {
    const ready = this.#ready;
    if (ready?.shellName !== shell || ready.buildsDir !== buildsDir) return undefined;
    this.#ready = undefined;
    return { processes: ready.processes, shell: ready.shell };
  }

  /** Stops the shell no job claimed and removes its cgroup. */
  async discard(): Promise<void> {
    const ready = this.#ready;
    this.#ready = undefined;
    if (!ready) return;
    await ready.shell.discard();
    await ready.processes.stopAll({ graceMs: 200, thorough: true });
    ready.processes.dispose();
  }
}
