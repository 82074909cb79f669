import { describe, expect, test } from "bun:test";
import { compositeStatus, latestAttempts } from "../../src/record/composite-status.ts";

const job = (status: string, allow_failure = false) => ({ status, allow_failure });

describe("compositeStatus: GitLab's pipeline status (docs/pipeline.md §9.2)", () => {
  test.each([
    ["no job", [], "success", false],
    ["all passed", [job("success"), job("success")], "success", false],
    ["an allowed failure passes with warnings", [job("success"), job("failed", true)], "success", true],
    ["an allowed cancel passes with warnings", [job("canceled", true)], "success", true],
    ["a real failure fails", [job("success"), job("failed"), job("failed", true)], "failed", true],
    ["only skipped jobs", [job("skipped"), job("skipped")], "skipped", false],
    ["skipped and optional manual jobs", [job("skipped"), job("manual", true)], "skipped", false],
    ["an optional manual job does not block", [job("success"), job("manual", true)], "success", false],
    ["a blocking manual job blocks", [job("success"), job("manual")], "manual", false],
    ["a failure wins over a blocking manual job", [job("failed"), job("manual")], "failed", false],
    ["a cancel among successes", [job("success"), job("canceled"), job("skipped")], "canceled", false],
    ["a cancel with a failure fails", [job("canceled"), job("failed")], "failed", false],
  ])("%s", (_name, jobs, status, warnings) => {
    expect(compositeStatus(jobs as { status: string; allow_failure: boolean }[])).toEqual({ status, warnings } as never);
  });

  test("a retried attempt does not count: the latest attempt of each job does", () => {
    const attempts = [{ job: "a", n: 1 }, { job: "b", n: 1 }, { job: "a", n: 2 }];
    expect(latestAttempts(attempts)).toEqual([{ job: "b", n: 1 }, { job: "a", n: 2 }]);
  });
});
