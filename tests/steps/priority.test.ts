import { describe, expect, test } from "bun:test";
import { pickPriorityError, JobFailure } from "../../src/protocol/job-failure.ts";
import { settle, type StepScope } from "../../src/steps/compose.ts";

const failure = (message: string) => new JobFailure(message, { failureReason: message === "script" ? "script_failure" : "runner_system_failure", system: message !== "script" });
const S = failure("script");
const C = failure("cache");
const A = failure("artifact");

/** GitLab Runner's TestPickPriorityError vectors (common/build_test.go), as data. */
const VECTORS: [string, { script?: JobFailure; cache?: JobFailure; artifacts?: JobFailure }, JobFailure | undefined][] = [
  ["script wins over all", { script: S, cache: C, artifacts: A }, S],
  ["cache wins when no script error", { cache: C, artifacts: A }, C],
  ["artifact error when nothing else failed", { artifacts: A }, A],
  ["script wins over the artifacts alone", { script: S, artifacts: A }, S],
  ["script wins over the cache alone", { script: S, cache: C }, S],
  ["no error at all", {}, undefined],
];

describe("which failure decides the job (GitLab Runner's pickPriorityError)", () => {
  test.each(VECTORS)("%s", (_name, failures, expected) => {
    expect(pickPriorityError(failures)).toBe(expected);
  });

  test("settle runs every finishing part even when one fails, and reports the winner; the rest are suppressed", async () => {
    const ran: string[] = [];
    const suppressed: JobFailure[] = [];
    const ctx: StepScope = { signal: new AbortController().signal, graceSignal: new AbortController().signal, suppressed: (e) => suppressed.push(e) };
    const step = (name: string, error?: JobFailure) => async () => {
      ran.push(name);
      if (error) throw error;
    };
    const run = settle(step("body"), { afterScript: step("after_script"), cache: step("cache", C), artifacts: step("artifacts", A) });
    await expect(run(ctx)).rejects.toBe(C);
    expect(ran).toEqual(["body", "after_script", "cache", "artifacts"]);
    expect(suppressed).toEqual([A]);
  });

  test("the finishing parts see the script's failure as primary, and after a failed after_script the uploads do too", async () => {
    const seen: (string | undefined)[] = [];
    const ctx: StepScope = { signal: new AbortController().signal, graceSignal: new AbortController().signal, suppressed: () => {} };
    const look = (name: string) => async (c: StepScope) => void seen.push(`${name}:${c.primary?.message ?? "none"}`);
    await expect(settle(async () => { throw S; }, { afterScript: look("after"), cache: look("cache"), artifacts: look("artifacts") })(ctx)).rejects.toBe(S);
    const failedAfter = failure("after_script");
    await expect(settle(async () => {}, { afterScript: async () => { throw failedAfter; }, cache: look("cache"), artifacts: look("artifacts") })(ctx)).rejects.toBe(failedAfter);
    expect(seen).toEqual(["after:script", "cache:script", "artifacts:script", "cache:after_script", "artifacts:after_script"]);
  });
});
