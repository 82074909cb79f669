import { describe, expect, test } from "bun:test";
import type { JobDefinition } from "../../src/pipeline/definitions.ts";
import { reasonNotToRun } from "../../src/local/previous-status.ts";

const job = (when: JobDefinition["when"], dag: boolean) =>
  ({ name: "j", stage: "test", when, ...(dag ? { needs: [{ job: "x", optional: false, artifacts: true }] } : {}) }) as unknown as JobDefinition;
const ended = (status: string, allowFailure = false) => ({ status, allowFailure });

describe("reasonNotToRun (docs/pipeline.md §8.3)", () => {
  test.each([
    ["on_success after success", job("on_success", false), [ended("success")], undefined],
    ["on_success after an allowed failure", job("on_success", true), [ended("failed", true)], undefined],
    ["on_success after a failure", job("on_success", false), [ended("failed")], "a job it waits for failed (when: on_success)"],
    ["a stage job after skipped jobs", job("on_success", false), [ended("skipped")], undefined],
    ["a DAG job after a skipped need", job("on_success", true), [ended("success"), ended("skipped")], "a job it needs was skipped (when: on_success)"],
    ["on_failure after success", job("on_failure", false), [ended("success")], "no job it waits for failed (when: on_failure)"],
    ["on_failure after a failure", job("on_failure", true), [ended("failed")], undefined],
    ["always after a failure", job("always", false), [ended("failed")], undefined],
    ["always after a skipped need", job("always", true), [ended("skipped")], undefined],
    ["always after a cancel", job("always", false), [ended("canceled")], "a job it waits for was canceled (when: always)"],
    ["a delayed job after a cancel", job("delayed", false), [ended("success"), ended("canceled")], "a job it waits for was canceled (when: delayed)"],
    ["the first jobs wait for nothing", job("on_success", false), [], undefined],
  ])("%s", (_name, j, predecessors, reason) => {
    expect(reasonNotToRun(j, predecessors)).toBe(reason);
  });
});
