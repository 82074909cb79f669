import { describe, expect, test } from "bun:test";
import { parseProcStat, parsePsEnvironment, parsePsGroups, processTable } from "../../src/shell/process-table.ts";
import { stopTrackedScript } from "../../src/shell/remote-stop.ts";

describe("the process table (Linux /proc, macOS ps)", () => {
  test("/proc/<pid>/stat: the group and zombie state come after the command, whatever it contains", () => {
    expect(parseProcStat("4711 (bash) S 1 4711 4711 0 -1")).toEqual({ pgid: 4711, zombie: false });
    expect(parseProcStat("4712 (evil) Z 9 (x) R 1 7 7 0) S 1 4700 4700 0")).toEqual({ pgid: 4700, zombie: false });
    expect(parseProcStat("4713 (sleep) Z 1 4711 4711 0")).toEqual({ pgid: 4711, zombie: true });
  });

  test("macOS `ps -A -o pid=,pgid=,stat=`: zombies are marked Z", () => {
    const output = "    1     1 Ss\n  412   412 S\n  413   412 Z+\n\n  x y z\n";
    expect(parsePsGroups(output)).toEqual([
      { pid: 1, pgid: 1, zombie: false }, { pid: 412, pgid: 412, zombie: false }, { pid: 413, pgid: 412, zombie: true },
    ]);
  });

  test("macOS `ps -E`: the entry must be a word of its own, not part of another", () => {
    const output = [
      "  501 /bin/sleep 100 TERM=xterm RUNNER_TRACKING_ID=runner-abc PATH=/bin",
      "  502 /bin/sleep 100 RUNNER_TRACKING_ID=runner-abcdef",
      "  503 /bin/sh -c echo XRUNNER_TRACKING_ID=runner-abc",
      "  504 /usr/bin/login",
    ].join("\n");
    expect(parsePsEnvironment(output, "RUNNER_TRACKING_ID=runner-abc")).toEqual([501]);
  });

  test("on Linux, a process is found by the entry in its environment", async () => {
    const entry = `RUNNER_TRACKING_ID=test-${crypto.randomUUID()}`;
    const child = Bun.spawn(["sleep", "30"], { env: { PATH: process.env.PATH!, [entry.split("=")[0]!]: entry.split("=")[1]! } });
    try {
      // Until the child has exec'd, /proc shows the environment it was forked with.
      for (let i = 0; i < 100 && processTable().withEnvironment(entry).length === 0; i++) await Bun.sleep(10);
      expect(processTable().withEnvironment(entry)).toEqual([child.pid]);
      expect(processTable().withEnvironment(`${entry}x`)).toEqual([]);
    } finally {
      child.kill();
    }
  });

  test("the remote stop script stops every process with an entry starting with the prefix, and nothing else", async () => {
    const id = crypto.randomUUID();
    const start = (value: string) => Bun.spawn(["sleep", "30"], { env: { PATH: process.env.PATH!, RUNNER_TRACKING_ID: value } });
    const [a, b, other] = [start(`${id}.1`), start(`${id}.2`), start(`x${id}.1`)];
    const script = stopTrackedScript({ entry: `RUNNER_TRACKING_ID=${id}.`, graceMs: 500 });
    expect(Bun.spawnSync(["sh", "-c", script]).exitCode).toBe(0);
    expect(await a.exited).toBe(143);
    expect(await b.exited).toBe(143);
    expect(other.killed || other.exitCode !== null).toBe(false);
    other.kill();
  });
});
