import { describe, expect, test } from "bun:test";
import { coverageFromTrace } from "../../src/record/coverage.ts";

describe("coverageFromTrace: GitLab's coverage parsing", () => {
  test("the last matching line, its last match, the first number in it", () => {
    const trace = "Coverage: 10.5%\nnoise\nTotal coverage: 50% (branches 20%)\nTotal coverage: 087.25% (branches 30%)\nend\n";
    expect(coverageFromTrace(trace, "/Total coverage: \\d+(?:\\.\\d+)?%/")).toBe(87.25);
    expect(coverageFromTrace("a 1% b 2%\n", "/\\d+%/")).toBe(2);
  });

  test("colours and section markers do not hide a match; flags apply", () => {
    const trace = "section_start:1700000000:step_script\r\x1b[0K\x1b[32mTOTAL      120     12    90%\x1b[0m\nsection_end:1700000001:step_script\r\x1b[0K";
    // With a capture group, the group is what holds the number (Ruby's scan).
    expect(coverageFromTrace(trace, "/^total\\s+\\d+\\s+\\d+\\s+(\\d+%)$/im")).toBe(90);
    expect(coverageFromTrace(trace, "/^total\\s+\\d+\\s+\\d+\\s+\\d+%$/im")).toBe(120);
    expect(coverageFromTrace(trace, "/\\d+%/")).toBe(90);
  });

  test("a line whose match holds no number is passed over", () => {
    expect(coverageFromTrace("coverage: 42\ncoverage: n/a\n", "/coverage: \\S+/")).toBe(42);
  });

  test("nothing matching, or a pattern that is not /…/, gives no coverage", () => {
    expect(coverageFromTrace("no numbers here\n", "/coverage: \\d+/")).toBeUndefined();
    expect(coverageFromTrace("coverage: 5\n", "coverage: \\d+")).toBeUndefined();
  });
});
