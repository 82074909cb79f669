import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { executorMatrix, runOn } from "../helpers/executors.ts";
import { makeJob, variable } from "../helpers/job.ts";

/**
 * A stage's stdout and stderr reach the trace through one writer, as GitLab Runner's shell
 * executor hands one writer to both (executors/shell: `c.Stdout = s.Trace; c.Stderr = s.Trace`):
 * lines keep the order they were written in, and a secret printed half on each stream is masked.
 * A stage's last line without a newline stays in its own section (GitLab Runner opens a fresh
 * masker and timestamper per stage).
 */

const matrix = executorMatrix();
beforeAll(() => matrix.start(), 300_000);
afterAll(() => matrix.stop());
const held: string[] = [];
afterAll(() => console.log(`secret-leak cases held: ${held.filter((h) => h === "held").length} of ${held.length}`));

const SECRET = "Sup3rS3cretValue-4711";

for (const { name, make } of matrix.cases) {
  describe(`stdout and stderr, one writer (${name} executor)`, () => {
    test("`echo out; echo err >&2` in a loop comes out in the order it was written", async () => {
      const { outcome, trace } = await runOn(make(), makeJob(["for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"]));
      expect(outcome.status, trace).toBe("success");
      expect(trace).toContain("out1\nerr1\nout2\nerr2\nout3\nerr3\nout4\nerr4\nout5\nerr5\n");
    }, 60_000);

    // GitLab Runner's shell executor hands the stage a pipe (Go's os/exec, one for both streams):
    // a script may open /dev/stdout and /dev/stderr again by name, which a socket cannot be.
    test("a script can write to /dev/stdout and /dev/stderr by name", async () => {
      const { outcome, trace } = await runOn(make(), makeJob(["echo to-stdout > /dev/stdout", "echo to-stderr | tee /dev/stderr >/dev/null", "echo both >> /dev/stdout"]));
      expect(outcome.status, trace).toBe("success");
      expect(trace).toContain("to-stdout\n");
      expect(trace).toContain("to-stderr\n");
      expect(trace).toContain("both\n");
      expect(trace).not.toContain("No such device or address");
    }, 60_000);

    test("a secret printed half on stdout and half on stderr is masked", async () => {
      const job = makeJob([`printf '%s' "\${S:0:10}"; printf '%s\\n' "\${S:10}" >&2`, `printf '%s' "$S" | cut -c1-7; printf 'x%sx\\n' "$S" >&2`], {
        variables: [variable("GIT_STRATEGY", "none"), variable("S", SECRET, { masked: true })],
      });
      const { outcome, raw } = await runOn(make(), job);
      expect(outcome.status, raw).toBe("success");
      held.push(raw.includes(SECRET) || raw.includes(SECRET.slice(10)) ? "leaked" : "held");
      expect(raw).not.toContain(SECRET.slice(10));
      expect(raw).toContain("x[MASKED]x");
    }, 60_000);

    test("a stage's last line without a newline ends before its section does", async () => {
      // The masker holds "hidden-" back (it may be the start of the secret) until the stage ends.
      const job = makeJob(["printf '%s' \"$MSG\""], {
        afterScript: ["echo after"],
        variables: [variable("GIT_STRATEGY", "none"), variable("H", "hidden-value-4711", { masked: true }), variable("MSG", "no newline at the end hidden-")],
      });
      const { outcome, raw } = await runOn(make(), job);
      expect(outcome.status, raw).toBe("success");
      expect(raw.indexOf("no newline at the end hidden-")).toBeGreaterThan(-1);
      expect(raw.indexOf("no newline at the end hidden-")).toBeLessThan(raw.indexOf("section_end:", raw.indexOf("step_script")));
    }, 60_000);
  });
}
