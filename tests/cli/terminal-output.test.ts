import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { descriptorWriter } from "../../src/cli/terminal-output.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

function project(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-output-"));
  writeFileSync(join(dir, ".gitlab-ci.yml"), `job:\n  script:\n    - ${JSON.stringify(script)}\n`);
  return dir;
}

describe("what runner exec prints goes to fd 1 and 2 directly (src/cli/terminal-output.ts)", () => {
  test("texts arrive whole and in order, multi-byte ones too", () => {
    const file = join(mkdtempSync(join(tmpdir(), "runner-output-")), "out");
    const fd = openSync(file, "w");
    const write = descriptorWriter(fd);
    const texts = ["one\n", "", "zwei — drei ✓\n", "x".repeat(300_000), "\nend\n"];
    for (const text of texts) write(text);
    closeSync(fd);
    expect(readFileSync(file, "utf8")).toBe(texts.join(""));
  });

  // A full disk, made a file-size limit (`ulimit -f`, SIGXFSZ ignored: writes past it fail with EFBIG):
  // the terminal's file and the run record's trace.log both refuse after 1 MiB of a loud job's output.
  test("a disk that refuses the output and the record holds nothing up: the run ends, says so, the job fails as a runner system failure", () => {
    const dir = project("seq -f 'line %08g of a loud job' 1 200000");
    const out = join(dir, "terminal.out");
    const started = performance.now();
    const run = Bun.spawnSync(["bash", "-c", `trap '' XFSZ; ulimit -f 1024; exec '${BINARY}' exec job > '${out}'`], { cwd: dir, env, stderr: "pipe", timeout: 60_000 });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(run.exitCode).toBe(1);
    expect(run.stderr.toString()).toMatch(/standard output refused a write \(EFBIG/);
    const summary = JSON.parse(readFileSync(join(dir, ".runner/runs/latest/job/summary.json"), "utf8"));
    expect(summary).toMatchObject({ status: "failed", failure_reason: "runner_system_failure" });
    expect(readFileSync(join(dir, ".runner/runs/latest/job/trace.log"), "utf8")).toContain("line 00000001 of a loud job\n");
  }, 60_000);

  test("a reader that goes away (runner exec | head -c 1) ends nothing: the job's code, the whole trace in the record", () => {
    const dir = project("seq 1 200000");
    const run = Bun.spawnSync(["bash", "-c", `'${BINARY}' exec job | head -c 1 >/dev/null; echo "exit=\${PIPESTATUS[0]}"`], { cwd: dir, env, stderr: "pipe" });
    expect(run.stdout.toString()).toContain("exit=0");
    expect(run.stderr.toString()).not.toContain("EPIPE");
    expect(readFileSync(join(dir, ".runner", "runs", "latest", "job", "trace.log"), "utf8")).toContain("\n200000\n");
  }, 30_000);

  // commander prints help and the version through writeOut (configured in main.ts).
  test("--help and --version into a pipe nobody reads end with code 0 and no stack trace", () => {
    const parent = "import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\np = subprocess.run([sys.argv[1], sys.argv[2]], stdout=w, stderr=subprocess.PIPE)\nprint(p.returncode, p.stderr.decode())";
    for (const flag of ["--help", "--version"]) {
      const run = Bun.spawnSync(["python3", "-c", parent, BINARY, flag], { env });
      expect(run.stdout.toString().trim()).toBe("0");
    }
  });

  test("a non-blocking pipe that fills up (EAGAIN) still gets every byte, in order", () => {
    const dir = project("seq 1 100000");
    // The parent makes the pipe, sets its write end non-blocking (as a shared terminal can be left by
    // another program) and reads nothing for a while, so the 64 KiB pipe fills while the runner writes.
    const parent = `
import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
child = subprocess.Popen([sys.argv[1], "exec", "job"], stdout=w, cwd=sys.argv[2])
os.close(w)
time.sleep(1.5)
out = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(child.wait())
`;
    const run = Bun.spawnSync(["python3", "-c", parent, BINARY, dir], { env, stderr: "pipe" });
    expect(run.stderr.toString()).not.toContain("EAGAIN");
    expect(run.exitCode).toBe(0);
    const out = run.stdout.toString();
    const numbers = out.split("\n").filter((line) => /^\d+$/.test(line)).map(Number);
    expect(numbers.length).toBe(100000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(out).toContain("Job succeeded");
  }, 30_000);

  test("fd 1 is a terminal on a pty only: not on /dev/null, a pipe or a file", () => {
    const probe = join(mkdtempSync(join(tmpdir(), "runner-output-")), "probe.ts");
    writeFileSync(probe, `import { isTerminal } from ${JSON.stringify(resolve(import.meta.dir, "../../src/cli/terminal-output.ts"))};\nprocess.stderr.write(String(isTerminal(1)));\n`);
    const asked = (stdout: "ignore" | "pipe" | number) => Bun.spawnSync([process.execPath, probe], { env, stdout, stderr: "pipe" }).stderr.toString();
    expect(asked("ignore")).toBe("false");
    expect(asked("pipe")).toBe("false");
    const file = openSync(join(mkdtempSync(join(tmpdir(), "runner-output-")), "out"), "w");
    expect(asked(file)).toBe("false");
    closeSync(file);
    // script(1) runs it on a pseudo-terminal (util-linux: -q quiet, -c the command, the typescript file).
    const onPty = Bun.spawnSync(["script", "-qec", `'${process.execPath}' '${probe}' 2>&1`, "/dev/null"], { env, stdout: "pipe", stderr: "pipe" });
    expect(onPty.stdout.toString()).toContain("true");
  });
});
