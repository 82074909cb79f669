import { describe, expect, test } from "bun:test";
import { ensure, retry, section, sequence, when, withTimeout, type Step, type StepScope } from "../../src/steps/compose.ts";
import { cancelReason, JobFailure, scriptFailure } from "../../src/protocol/job-failure.ts";

interface TestScope extends StepScope {
  readonly log: string[];
  readonly lost: JobFailure[];
  readonly trace: { sectionStart(n: string, h: string): void; sectionEnd(n: string): void };
}

function scope(signal = new AbortController().signal, grace = new AbortController().signal): TestScope {
  const log: string[] = [];
  const lost: JobFailure[] = [];
  return {
    signal, graceSignal: grace, log, lost,
    suppressed: (e) => lost.push(e),
    trace: { sectionStart: (n) => log.push(`start ${n}`), sectionEnd: (n) => log.push(`end ${n}`) },
  };
}

const note = (name: string): Step<TestScope> => async (ctx) => void ctx.log.push(name);
const fail = (name: string, code = 1): Step<TestScope> => async (ctx) => {
  ctx.log.push(name);
  throw scriptFailure(code);
};

describe("sequence()", () => {
  test("runs steps in order", async () => {
    const ctx = scope();
    await sequence(note("a"), note("b"), note("c"))(ctx);
    expect(ctx.log).toEqual(["a", "b", "c"]);
  });

  test("skips later steps after a failure and rethrows it", async () => {
    const ctx = scope();
    const run = sequence(note("a"), fail("b", 7), note("c"))(ctx);
    await expect(run).rejects.toMatchObject({ exitCode: 7, failureReason: "script_failure" });
    expect(ctx.log).toEqual(["a", "b"]);
  });

  test("does not start a step once the signal is aborted", async () => {
    const controller = new AbortController();
    const ctx = scope(controller.signal);
    const abortThenNote: Step<TestScope> = async (c) => {
      c.log.push("a");
      controller.abort(cancelReason());
    };
    await expect(sequence(abortThenNote, note("b"))(ctx)).rejects.toMatchObject({ interruption: "canceled" });
    expect(ctx.log).toEqual(["a"]);
  });
});

describe("ensure()", () => {
  test("runs cleanup after success without a primary failure", async () => {
    const ctx = scope();
    let seen: JobFailure | undefined = scriptFailure(99);
    await ensure(note("body"), async (c) => void (seen = c.primary))(ctx);
    expect(seen).toBeUndefined();
  });

  test("runs cleanup after a failure, shows it the failure, and rethrows it", async () => {
    const ctx = scope();
    let seen: JobFailure | undefined;
    const run = ensure(fail("body", 3), async (c) => {
      seen = c.primary;
      c.log.push("cleanup");
    })(ctx);
    await expect(run).rejects.toMatchObject({ exitCode: 3 });
    expect(ctx.log).toEqual(["body", "cleanup"]);
    expect(seen?.exitCode).toBe(3);
  });

  test("runs cleanup after an abort, under the grace signal", async () => {
    const controller = new AbortController();
    const ctx = scope(controller.signal);
    let cleanupSignalAborted: boolean | undefined;
    const body: Step<TestScope> = async (c) => {
      controller.abort(cancelReason());
      await new Promise((r) => setTimeout(r, 1));
      if (c.signal.aborted) throw c.signal.reason;
    };
    const run = ensure(body, async (c) => void (cleanupSignalAborted = c.signal.aborted))(ctx);
    await expect(run).rejects.toMatchObject({ interruption: "canceled", failureReason: "job_canceled" });
    expect(cleanupSignalAborted).toBe(false);
  });

  test("a cleanup error never hides the primary failure", async () => {
    const ctx = scope();
    const run = ensure(fail("body", 2), fail("cleanup", 9))(ctx);
    await expect(run).rejects.toMatchObject({ exitCode: 2 });
    expect(ctx.lost.map((l) => l.exitCode)).toEqual([9]);
  });

  test("a cleanup error after success is the job's error", async () => {
    const ctx = scope();
    await expect(ensure(note("body"), fail("cleanup", 4))(ctx)).rejects.toMatchObject({ exitCode: 4 });
    expect(ctx.lost).toEqual([]);
  });

  test("nested ensure keeps the innermost primary failure", async () => {
    const ctx = scope();
    let outerSaw: number | undefined;
    const run = ensure(ensure(fail("body", 5), note("inner")), async (c) => void (outerSaw = c.primary?.exitCode))(ctx);
    await expect(run).rejects.toMatchObject({ exitCode: 5 });
    expect(outerSaw).toBe(5);
  });
});

describe("when()", () => {
  test("runs the step only when the predicate holds", async () => {
    const ctx = scope();
    await sequence(when(() => false, note("no")), when(() => true, note("yes")))(ctx);
    expect(ctx.log).toEqual(["yes"]);
  });
});

describe("retry()", () => {
  test("retries a failing step up to the number of attempts, with beforeRetry between", async () => {
    const ctx = scope();
    let calls = 0;
    const flaky: Step<TestScope> = async (c) => {
      c.log.push(`try ${++calls}`);
      if (calls < 3) throw scriptFailure(1);
    };
    await retry(flaky, { attempts: () => 3, beforeRetry: note("clear") })(ctx);
    expect(ctx.log).toEqual(["try 1", "clear", "try 2", "clear", "try 3"]);
  });

  test("gives up after the last attempt with its failure", async () => {
    const ctx = scope();
    await expect(retry(fail("x", 6), { attempts: () => 2 })(ctx)).rejects.toMatchObject({ exitCode: 6 });
    expect(ctx.log).toEqual(["x", "x"]);
  });

  test("never retries an interruption", async () => {
    const ctx = scope();
    const canceled: Step<TestScope> = async (c) => {
      c.log.push("x");
      throw new JobFailure("canceled", { failureReason: "job_canceled", interruption: "canceled" });
    };
    await expect(retry(canceled, { attempts: () => 5 })(ctx)).rejects.toMatchObject({ interruption: "canceled" });
    expect(ctx.log).toEqual(["x"]);
  });
});

describe("withTimeout()", () => {
  test("aborts the step's signal at the deadline and fails with the timeout", async () => {
    const ctx = scope();
    const slow: Step<TestScope> = (c) =>
      new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(scriptFailure(143))));
    const started = performance.now();
    const run = withTimeout(() => 0.05, slow)(ctx);
    await expect(run).rejects.toMatchObject({
      failureReason: "job_execution_timeout",
      message: "execution took longer than 0s seconds",
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a step that finishes in time is not affected", async () => {
    const ctx = scope();
    await withTimeout(() => 5, note("quick"))(ctx);
    expect(ctx.log).toEqual(["quick"]);
  });

  test("a parent abort stays a cancel, not a timeout", async () => {
    const controller = new AbortController();
    const ctx = scope(controller.signal);
    const waits: Step<TestScope> = (c) =>
      new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(c.signal.reason)));
    const run = withTimeout(() => 10, waits)(ctx);
    controller.abort(cancelReason());
    await expect(run).rejects.toMatchObject({ interruption: "canceled" });
  });
});

describe("section()", () => {
  test("writes start and end markers around the step, also when it fails", async () => {
    const ctx = scope();
    await expect(section("step_script", "Executing", fail("body"))(ctx)).rejects.toBeInstanceOf(JobFailure);
    expect(ctx.log).toEqual(["start step_script", "body", "end step_script"]);
  });
});
