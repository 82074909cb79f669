import { describe, expect, test } from "bun:test";
import { checkJobPayload } from "../../src/protocol/job-payload.ts";
import { makeJob, runShellJob, variable } from "../helpers/job.ts";

/**
 * Input a job's author controls must end in a message that says what is wrong, never in a crashed
 * shell (a 50 MB variable or 100,000 of them used to end in `script_failure` after a bash segfault
 * or "Argument list too long") and never silently differently than written.
 */
describe("job input that no process could be given", () => {
  test("100,000 variables fail before anything runs, naming ARG_MAX", async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => variable(`VAR_${i}`, `value-number-${i}`));
    const started = performance.now();
    const { outcome, trace } = await runShellJob(makeJob(["echo never"], { variables: [variable("GIT_STRATEGY", "none"), ...many] }));
    expect(outcome.status).toBe("failed");
    expect(trace).toMatch(/ERROR: The job's variables do not fit in a process environment: the \d+ variables take \d+ bytes of environment, more than the 2097152 a process may be given \(ARG_MAX\)/);
    expect(trace).not.toContain("$ echo never");
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 20_000);

  test("one 50 MB value fails before anything runs, naming MAX_ARG_STRLEN", async () => {
    const { outcome, trace } = await runShellJob(makeJob(["echo never"], {
      variables: [variable("GIT_STRATEGY", "none"), variable("HUGE", "x".repeat(50 * 1024 * 1024))],
    }));
    expect(outcome.status).toBe("failed");
    expect(trace).toContain(`HUGE is ${50 * 1024 * 1024 + 6} bytes, more than the 131072 one environment entry may hold (MAX_ARG_STRLEN); make it a file variable`);
  }, 20_000);

  test("the same value as a file variable runs: only its path is in the environment", async () => {
    const { outcome, trace } = await runShellJob(makeJob(['wc -c < "$BIG"'], {
      variables: [variable("GIT_STRATEGY", "none"), variable("BIG", "y".repeat(1024 * 1024), { file: true })],
    }));
    expect(outcome.status, trace).toBe("success");
    expect(trace).toContain("1048576\n");
  }, 20_000);

  test("names no shell can export are named in the trace, not dropped without a word", async () => {
    const { outcome, trace } = await runShellJob(makeJob(["echo ran"], {
      variables: [variable("GIT_STRATEGY", "none"), variable("A B", "1"), variable("1X", "2"), variable("A-B", "3")],
    }));
    expect(outcome.status).toBe("success");
    for (const name of ["A B", "1X", "A-B"]) expect(trace).toContain(`WARNING: Variable "${name}" is not exported: it is not a valid shell variable name`);
  });

  test("a NUL byte in a script line is refused, not run as a shorter line", () => {
    const checked = checkJobPayload({ ...makeJob(["echo safe\0; rm -rf important"]) });
    expect(checked.kind).toBe("invalid");
    expect(checked.kind === "invalid" && checked.problems).toEqual(["steps[0].script[0]: contains a NUL character, which no shell can run"]);
  });
});
