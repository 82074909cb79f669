import { describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { livingMembers, startProcess, supervise } from "../../src/shell/supervisor.ts";

const env = { PATH: process.env.PATH! };
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString();

/** Starts `script` in bash, reports the group id it printed first, and returns the running promise. */
function startGroup(script: string, signal: AbortSignal, graceMs = 300) {
  const out: Uint8Array[] = [];
  let resolveReady: (pgid: number) => void;
  const ready = new Promise<number>((r) => (resolveReady = r));
  const result = supervise(["bash"], {
    env, stdin: `echo "pgid $(ps -o pgid= $$)"\n${script}`, signal, graceMs,
    onStdout: (chunk) => {
      out.push(chunk);
      const match = /pgid\s+(\d+)/.exec(text(out));
      if (match) resolveReady(Number(match[1]));
    },
  });
  return { ready, result, out };
}

describe("supervise()", () => {
  test("passes the script on stdin and collects both streams and the exit code", async () => {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const result = await supervise(["bash"], {
      env, stdin: "echo out; echo err >&2; exit 7",
      onStdout: (c) => out.push(c), onStderr: (c) => err.push(c),
    });
    expect(result).toEqual({ exitCode: 7, signal: undefined, interrupted: false });
    expect(text(out)).toBe("out\n");
    expect(text(err)).toBe("err\n");
  });

  test("gives the child only the environment it is handed", async () => {
    const out: Uint8Array[] = [];
    await supervise(["bash"], { env: { PATH: env.PATH, ONLY: "this" }, stdin: "env", onStdout: (c) => out.push(c) });
    const keys = text(out).split("\n").filter(Boolean).map((l) => l.split("=")[0]).sort();
    expect(keys).not.toContain("HOME");
    expect(keys).toContain("ONLY");
  });

  test("cancel stops the whole process group, children and grandchildren, and leaves nothing", async () => {
    const controller = new AbortController();
    const { ready, result } = startGroup("sleep 60 & (sleep 61 &) ; bash -c 'sleep 62' & wait", controller.signal);
    const pgid = await ready;
    await Bun.sleep(100);
    expect(livingMembers(pgid).length).toBeGreaterThanOrEqual(3);
    controller.abort();
    const outcome = await result;
    expect(outcome.interrupted).toBe(true);
    expect(livingMembers(pgid)).toEqual([]);
  });

  test("a child that ignores TERM is killed after the grace period", async () => {
    const controller = new AbortController();
    const { ready, result } = startGroup("bash -c 'trap \"\" TERM; sleep 60' & wait", controller.signal, 200);
    const pgid = await ready;
    await Bun.sleep(100);
    const started = performance.now();
    controller.abort();
    await result;
    const took = performance.now() - started;
    expect(livingMembers(pgid)).toEqual([]);
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(3000);
  });

  test("background processes a script leaves behind are stopped when it exits", async () => {
    const { ready, result } = startGroup("sleep 60 &\necho done", new AbortController().signal);
    const pgid = await ready;
    const outcome = await result;
    expect(outcome.exitCode).toBe(0);
    expect(livingMembers(pgid)).toEqual([]);
  });

  test("the child's output is a pipe, stderr the same one when shared, and every end is closed after", async () => {
    const before = openPipes();
    const kinds: Uint8Array[] = [];
    // /proc/self/fd/N names the pipe (pipe:[inode]): one inode for both when shared.
    const probe = "readlink /proc/$$/fd/1; readlink /proc/$$/fd/2";
    await supervise(["bash"], { env, stdin: probe, sharedOutput: true, onStdout: (c) => kinds.push(c) });
    const [out, err] = text(kinds).trim().split("\n");
    expect(out).toMatch(/^pipe:\[\d+\]$/);
    expect(err).toBe(out);
    const apart: Uint8Array[] = [];
    const apartErr: Uint8Array[] = [];
    await supervise(["bash"], { env, stdin: "names=$(" + probe + "); echo $names >&2", onStdout: (c) => apart.push(c), onStderr: (c) => apartErr.push(c) });
    const [apartOut, apartStderr] = text(apartErr).trim().split(" ");
    expect(apartStderr).toMatch(/^pipe:\[\d+\]$/);
    expect(apartStderr).not.toBe(apartOut);
    // A started process that is discarded, and one whose stray keeps the pipe open past the drain.
    await startProcess(["bash"], { env }).discard();
    await supervise(["bash"], { env, stdin: "setsid sleep 3 &", drainMs: 100, onStdout: () => {} });
    expect(openPipes()).toEqual(before);
  });
});

/** The pipes this process holds open. */
function openPipes(): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith("pipe:") ? [target] : [];
    } catch {
      return [];
    }
  }).sort();
}
