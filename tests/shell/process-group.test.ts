import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localProcessGroup, remoteProcessGroup, stopProcessGroup } from "../../src/shell/process-group.ts";
import { processTable, type ProcessTable } from "../../src/shell/process-table.ts";

/** A process group of `sh` children that ignore nothing, or TERM when asked; its pgid. */
function startGroup(ignoreTerm = false): { pgid: number; exited: Promise<number> } {
  const child = Bun.spawn(["sh", "-c", `${ignoreTerm ? "trap '' TERM; " : ""}sleep 30 & sleep 30 & wait`], { detached: true, stdout: "ignore", stderr: "ignore" });
  return { pgid: child.pid, exited: child.exited };
}

/** Whether a member of the group still runs (a zombie waiting for its reaper does not). */
const alive = (pgid: number) => processTable().groupMembers(pgid).length > 0;

describe("stopping a process group: one algorithm, wherever the group is", () => {
  test("TERM is sent before anything is read: a process table that cannot be read (no /proc, no ps) still stops the group", async () => {
    const { pgid, exited } = startGroup();
    await Bun.sleep(50);
    const broken: ProcessTable = {
      groupMembers: () => { throw new Error("no process table here"); },
      withEnvironment: () => [], groupOf: () => undefined,
    };
    const stopping = stopProcessGroup(localProcessGroup(pgid, broken), { graceMs: 1000 });
    await exited;
    // TERM went out at once: the members are gone long before the grace period ends.
    for (let i = 0; i < 25 && alive(pgid); i++) await Bun.sleep(20);
    expect(alive(pgid)).toBe(false);
    await stopping;
  });

  test("a group that ignores TERM is killed after the grace period", async () => {
    const { pgid, exited } = startGroup(true);
    await Bun.sleep(50);
    const started = Date.now();
    await stopProcessGroup(localProcessGroup(pgid), { graceMs: 300 });
    await exited;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    for (let i = 0; i < 50 && alive(pgid); i++) await Bun.sleep(20);
    expect(alive(pgid)).toBe(false);
  });

  test.each(["sh", "busybox sh", "bash"])("the remote form (a container, an SSH host) runs the same steps as POSIX sh commands (%s), the leader's pid in a file", async (shell) => {
    const { pgid, exited } = startGroup(true);
    await Bun.sleep(50);
    const pidFile = join(mkdtempSync(join(tmpdir(), "runner-group-")), "stage.pid");
    writeFileSync(pidFile, `${pgid}\n`);
    const commands: string[] = [];
    const run = async (command: string) => {
      commands.push(command);
      return Bun.spawnSync([...shell.split(" "), "-c", command]).exitCode;
    };
    await stopProcessGroup(remoteProcessGroup(run, pidFile), { graceMs: 200, pollMs: 50 });
    await exited;
    expect(commands[0]).toContain("kill -TERM -$p");
    expect(commands.some((c) => c.includes("kill -KILL -$p"))).toBe(true);
    for (let i = 0; i < 50 && alive(pgid); i++) await Bun.sleep(20);
    expect(alive(pgid)).toBe(false);
    // A group that is gone (its leader reaped) answers no at once: nothing more is sent.
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    writeFileSync(pidFile, `${gone.pid}\n`);
    commands.length = 0;
    await stopProcessGroup(remoteProcessGroup(run, pidFile), { graceMs: 200 });
    expect(commands).toHaveLength(1);
  });
});
