import { quotePosix } from "./quote.ts";

/**
 * How a job's processes are stopped where the runner cannot signal them itself (an SSH host, a
 * container): POSIX sh run there, as small commands of the runner's own. The logic is
 * job-processes.ts's: TERM, a grace period, KILL. A stage's process group is stopped as every
 * group is (process-group.ts).
 */

/**
 * Stops every process whose environment holds an entry that starts with `entry`
 * (`RUNNER_TRACKING_ID=<job>` stops every stage's `RUNNER_TRACKING_ID=<job>.<n>`), whatever group or
 * session it is in: read from `/proc/<pid>/environ` where there is a `/proc`, else from BSD
 * `ps -E`. TERM, then KILL after `graceMs`. The command itself does not carry the entry.
 */
export function stopTrackedScript(options: { entry: string; graceMs: number }): string {
  const entry = quotePosix(options.entry);
  const ticks = Math.max(1, Math.ceil(options.graceMs / 100));
  const find = `if [ -r /proc/self/environ ]; then grep -l -F ${entry} /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/||; s|/environ$||'; ` +
    `else ps -A -E -ww -o pid= -o command= 2>/dev/null | awk -v m=${entry} '{for (i = 2; i <= NF; i++) if (index($i, m) == 1) { print $1; break }}'; fi`;
  return `t() { ${find}; }; p=$(t | grep -vx "$$"); [ -z "$p" ] && exit 0; kill -TERM $p 2>/dev/null; ` +
    `i=0; while [ -n "$(t | grep -vx "$$")" ] && [ $i -lt ${ticks} ]; do sleep 0.1; i=$((i+1)); done; ` +
    `p=$(t | grep -vx "$$"); [ -n "$p" ] && kill -KILL $p 2>/dev/null; exit 0`;
}
