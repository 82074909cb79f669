import { describe, expect, test } from "bun:test";
import { setLongTimeout } from "../../src/steps/long-timeout.ts";
import { makeJob, runShellJob } from "../helpers/job.ts";

describe("timeouts beyond one timer's reach (2^31 − 1 ms, 24.8 days)", () => {
  test("a job with GitLab's longest timeout (a month) runs to its end instead of timing out at once", async () => {
    for (const seconds of [4 * 7 * 24 * 3600, 30 * 24 * 3600]) {
      const { outcome, trace } = await runShellJob(makeJob(["sleep 0.2", "echo finished"], { runner_info: { timeout: seconds } }));
      expect(outcome.status, trace).toBe("success");
      expect(trace).toContain("\nfinished\n");
    }
  });

  test("a long timeout can be canceled, and a short one fires on time", async () => {
    let fired = 0;
    const cancel = setLongTimeout(() => fired++, 40 * 24 * 3600 * 1000);
    cancel();
    const started = performance.now();
    await new Promise<void>((resolve) => setLongTimeout(resolve, 50));
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    await Bun.sleep(20);
    expect(fired).toBe(0);
  });
});
