import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { processTable, type ProcessTable } from "./process-table.ts";

/** The variable every process of a job carries, as GitHub's runner marks its jobs' processes. */
export const TRACKING_VARIABLE = "RUNNER_TRACKING_ID";

/**
 * Keeps track of every process a job starts on this machine, so that none outlives it, even one
 * that leaves the stage's process group (`setsid`, a daemonising server):
 * - each process carries `RUNNER_TRACKING_ID=<id>` in its environment (it is inherited), and
 * - where a cgroup v2 hierarchy can be written (Linux, as root or delegated), each stage's shell
 *   moves itself into a cgroup of the job's before it reads its script, which no descendant can
 *   leave — not even one that clears its environment.
 * See docs/processes.md for what is guaranteed where.
 */
export class JobProcesses {
  readonly id: string;
  readonly #table: ProcessTable;
  readonly #cgroup: string | undefined;

  constructor(options: { id?: string; table?: ProcessTable; cgroupRoot?: string | null } = {}) {
    this.id = options.id ?? `runner-${crypto.randomUUID()}`;
    this.#table = options.table ?? processTable();
    const root = options.cgroupRoot === undefined ? ownCgroup() : options.cgroupRoot;
    this.#cgroup = root ? makeCgroup(join(root, this.id)) : undefined;
  }

  /** The environment entries every process of the job must be started with. */
  get environment(): Record<string, string> {
    return { [TRACKING_VARIABLE]: this.id };
  }

  /** Whether a cgroup holds the job's processes (else only the environment marks them). */
  get contained(): boolean {
    return this.#cgroup !== undefined;
  }

  /**
   * The file a process writes its own pid to, to join the job's cgroup (undefined without one). A
   * stage shell does so itself before it reads its script (src/shell/launch.ts): a move made when
   * the machine has made none for some 20-40 ms waits for the kernel's RCU grace period (12-25 ms
   * measured; docs/processes.md), which the shell then waits out on its own, while the runner's
   * threads stay free for the job's files.
   */
  get joinFile(): string | undefined {
    return this.#cgroup ? join(this.#cgroup, "cgroup.procs") : undefined;
  }

  /**
   * The job's processes still running, but those in the process groups `keep` (an idle shell
   * started ahead of its stage, and the `cat` it waits in). With a cgroup its member list is
   * enough, unless `thorough` asks for the environment scan as well (every process's environment
   * is read: about a millisecond for a hundred processes).
   */
  running(keep: readonly number[] = [], thorough = false): number[] {
    const found = new Set(this.#cgroup ? cgroupProcs(this.#cgroup) : []);
    if (!this.#cgroup || thorough) for (const pid of this.#table.withEnvironment(`${TRACKING_VARIABLE}=${this.id}`)) found.add(pid);
    found.delete(process.pid);
    if (keep.length > 0) for (const pid of found) if (keep.includes(this.#table.groupOf(pid) ?? -1)) found.delete(pid);
    return [...found];
  }

  /** Stops every process of the job but the groups `keep`: TERM, then KILL after `graceMs`. Returns how many there were. */
  async stopAll(options: { keep?: readonly number[]; graceMs?: number; thorough?: boolean } = {}): Promise<number> {
    const look = () => this.running(options.keep, options.thorough);
    const strays = look();
    if (strays.length === 0) return 0;
    signalAll(strays, "SIGTERM");
    const deadline = Date.now() + (options.graceMs ?? 1000);
    let left = strays;
    while (left.length > 0 && Date.now() < deadline) {
      await Bun.sleep(20);
      const still = new Set(look());
      left = left.filter((pid) => still.has(pid));
    }
    signalAll(left, "SIGKILL");
    for (let i = 0; i < 50 && look().some((pid) => left.includes(pid)); i++) await Bun.sleep(10);
    return strays.length;
  }

  /** Removes the job's cgroup (after {@link stopAll}); never throws. */
  dispose(): void {
    if (this.#cgroup) removeCgroup(this.#cgroup);
  }
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

/**
 * The directory of this process's own cgroup in a cgroup v2 hierarchy, when one is mounted and a
 * child cgroup can be made there; undefined otherwise (macOS, cgroup v1 only, no permission).
 */
function ownCgroup(): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const mount = readFileSync("/proc/self/mountinfo", "utf8").split("\n")
      .map((line) => line.split(" "))
      .find((fields) => fields[fields.indexOf("-") + 1] === "cgroup2")?.[4];
    const own = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
    if (!mount || own === undefined) return undefined;
    const dir = join(mount, own);
    return existsSync(join(dir, "cgroup.procs")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function makeCgroup(dir: string): string | undefined {
  try {
    mkdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

function cgroupProcs(dir: string): number[] {
  const pids: number[] = [];
  const visit = (d: string) => {
    try {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (line) pids.push(Number(line));
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) visit(join(d, entry.name));
    } catch {
      // Removed while we looked.
    }
  };
  visit(dir);
  return pids;
}

/** Child cgroups first (a runner nested in a job makes its own below ours). */
function removeCgroup(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
    rmdirSync(dir);
  } catch {
    // Still busy or already gone: an empty cgroup costs nothing and holds no process.
  }
}
