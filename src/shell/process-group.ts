import { quotePosix } from "./quote.ts";
import { processTable, type ProcessTable } from "./process-table.ts";

/** The signals a process group is stopped with; `0` only asks whether any of it is left. */
export type GroupSignal = "TERM" | "KILL" | 0;

/** One process group, wherever it runs: on this machine, in a container, on an SSH host. */
export interface ProcessGroup {
  /** Sends `signal` to the group; resolves false when no process of it is left to receive it. */
  signal(signal: GroupSignal): Promise<boolean>;
}

export interface StopTiming {
  /** How long the group has after TERM before KILL. */
  readonly graceMs: number;
  /** How often the group is looked at while it stops (default 20 ms). */
  readonly pollMs?: number;
  /** How long KILL's delivery is waited for (default 1000 ms). */
  readonly settleMs?: number;
}

/**
 * The one way a job's process group is stopped, by every executor: TERM at once (nothing is read
 * before the group is told to go), a grace period while it is looked at, then KILL, and a short wait
 * for KILL to be delivered. A question that cannot be answered counts as "still there".
 */
export async function stopProcessGroup(group: ProcessGroup, timing: StopTiming): Promise<void> {
  const poll = timing.pollMs ?? 20;
  const alive = () => group.signal(0).catch(() => true);
  if (!(await group.signal("TERM").catch(() => true))) return;
  const deadline = Date.now() + timing.graceMs;
  while (Date.now() < deadline) {
    await Bun.sleep(poll);
    if (!(await alive())) return;
  }
  await group.signal("KILL").catch(() => false);
  const settled = Date.now() + (timing.settleMs ?? 1000);
  while (Date.now() < settled && (await alive())) await Bun.sleep(Math.min(poll, 10));
}

/**
 * A process group of this machine, signalled with kill(2). Whether it is still there asks kill(2)
 * first; only when it says yes is the process table read, so that members that have exited but
 * wait for a reaper (zombies, under a runner that is PID 1) do not count as running.
 */
export function localProcessGroup(pgid: number, table: ProcessTable = processTable()): ProcessGroup {
  return {
    async signal(signal) {
      try {
        process.kill(-pgid, signal === 0 ? 0 : `SIG${signal}`);
      } catch {
        return false; // ESRCH: the group is gone.
      }
      if (signal !== 0) return true;
      try {
        return table.groupMembers(pgid).length > 0;
      } catch {
        return true; // No table to read (no /proc, no ps): kill(2) said it is there.
      }
    },
  };
}

/**
 * A process group where the runner reaches only a shell (a container, an SSH host): the leader's
 * pid is in `pidFile` there, and each signal is one small POSIX sh command run by `run`, which
 * resolves with its exit code. Without `setsid` the leader leads no group: it alone is signalled.
 */
export function remoteProcessGroup(run: (command: string) => Promise<number>, pidFile: string): ProcessGroup {
  const file = quotePosix(pidFile);
  return {
    async signal(signal) {
      const flag = signal === 0 ? "-0" : `-${signal}`;
      // `kill -TERM -<pgid>`, no `--`: dash and busybox take `--` for a pid and fail (tested in both).
      return (await run(`p=$(cat ${file} 2>/dev/null) && { kill ${flag} -$p 2>/dev/null || kill ${flag} $p 2>/dev/null; }`)) === 0;
    },
  };
}
