import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stdinScript, type StdinScript } from "../../src/shell/launch.ts";
import { startProcess } from "../../src/shell/supervisor.ts";

// A UTF-8 locale makes bash count characters, not bytes: the launch must count bytes all the same.
const env = { PATH: process.env.PATH!, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };

async function runThrough(launch: StdinScript, script: string): Promise<{ exitCode: number; stdout: string }> {
  const out: Uint8Array[] = [];
  const shell = startProcess(launch.argv, { env });
  const result = await shell.run({ stdin: launch.input(script), onStdout: (c) => out.push(c), onStderr: (c) => out.push(c) });
  return { exitCode: result.exitCode, stdout: Buffer.concat(out).toString() };
}

/** Scripts whose bytes a reader could get wrong: multibyte text, blanks and backslashes at the edges, CRs, IFS characters. */
const SCRIPTS: Record<string, { script: string; stdout: string }> = {
  "multibyte text": { script: "echo 'héllo wörld ✓ 日本'\n", stdout: "héllo wörld ✓ 日本\n" },
  "leading blanks, a backslash at the end of a line, trailing newlines": {
    script: "  \t echo a \\\nb\nprintf '%s|' \"  x  \" '\\n'\n\n\n", stdout: "a b\n  x  |\\n|",
  },
  "a carriage return and IFS set oddly": { script: "IFS=x\nprintf '[%s]' \"$(printf 'a\\rb')\"\n", stdout: "[a\rb]" },
  "an empty script": { script: "", stdout: "" },
  "its own variables unseen": {
    script: "echo \"${__runner_script-unset} ${__runner_script_bytes-unset}\"; exit 3\n", stdout: "unset unset\n",
  },
};

describe("a stage shell's script on standard input (src/shell/launch.ts)", () => {
  for (const [road, launch] of [["read -N", stdinScript("bash")], ["cat, for a bash before 5.2", stdinScript("bash", { blockReadFrom: { major: 99, minor: 0 } })]] as const) {
    for (const [name, { script, stdout }] of Object.entries(SCRIPTS)) {
      test(`${road}: ${name}`, async () => {
        const result = await runThrough(launch, script);
        expect(result.stdout).toBe(stdout);
        expect(result.exitCode).toBe(name.includes("unseen") ? 3 : 0);
      });
    }
    test(`${road}: a 2 MB script arrives whole`, async () => {
      const lines = Array.from({ length: 40_000 }, (_, i) => `v=$'line ${i} ü ${"x".repeat(30)}'`);
      const result = await runThrough(launch, `${lines.join("\n")}\necho "$v"\n`);
      expect(result.stdout).toBe(`line 39999 ü ${"x".repeat(30)}\n`);
    });
  }

  test("bash 5.2 and later read it themselves: the shell starts no cat to read it", async () => {
    /** The shell's children once it has the length line and waits for the script. */
    const childrenWhileReading = async (launch: StdinScript) => {
      const script = "true\n";
      const [lengthLine, rest] = [launch.input(script).slice(0, -script.length), script];
      const shell = Bun.spawn([...launch.argv], { env, stdin: "pipe", stdout: "ignore", stderr: "ignore" });
      shell.stdin.write(lengthLine);
      await shell.stdin.flush();
      await Bun.sleep(300);
      const kids = readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, "utf8").trim();
      shell.stdin.write(rest);
      await shell.stdin.end();
      expect(await shell.exited).toBe(0);
      return kids;
    };
    expect(await childrenWhileReading(stdinScript("bash"))).toBe("");
    // The same look sees the cat of the older road, so the first assertion can fail.
    expect(await childrenWhileReading(stdinScript("bash", { blockReadFrom: { major: 99, minor: 0 } }))).toMatch(/^\d+$/);
  });

  // The shell executor's shells join the job's cgroup themselves (src/shell/job-processes.ts): a
  // file stands in for cgroup.procs here; tests/executors/orphans.test.ts holds the real one.
  for (const [road, shell, blockReadFrom] of [["read -N", "bash", undefined], ["cat", "bash", { major: 99, minor: 0 }], ["sh", "sh", undefined]] as const) {
    test(`${road}: the shell writes its own pid to the join file before its script runs`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), "runner-join-")), "cgroup.procs");
      const launch = stdinScript(shell, { joinCgroup: file, ...(blockReadFrom ? { blockReadFrom } : {}) });
      const started = startProcess(launch.argv, { env });
      const out: Uint8Array[] = [];
      const result = await started.run({ stdin: launch.input(`cat '${file}'\necho "$$"\n`), onStdout: (c) => out.push(c), onStderr: (c) => out.push(c) });
      expect(result.exitCode).toBe(0);
      expect(Buffer.concat(out).toString()).toBe(`${started.pid}\n${started.pid}\n`);
    });
    test(`${road}: a join the system refuses is silent, and the script runs`, async () => {
      const launch = stdinScript(shell, { joinCgroup: "/nonexistent/runner/cgroup.procs", ...(blockReadFrom ? { blockReadFrom } : {}) });
      expect(await runThrough(launch, "echo ran\n")).toEqual({ exitCode: 0, stdout: "ran\n" });
    });
  }

  test("POSIX sh gets the script as it is", () => {
    expect(stdinScript("sh")).toMatchObject({ argv: ["sh"] });
    expect(stdinScript("sh").input("echo hi\n")).toBe("echo hi\n");
  });
});
