import type { HttpClient } from "../protocol/http-client.ts";
import type { RunnerInfo } from "../protocol/runner-info.ts";
import { ANSI } from "../trace/ansi.ts";
import { TraceBuffer } from "../trace/trace-buffer.ts";
import { JobReporter, type ReporterTiming } from "./job-reporter.ts";

/** GitLab Runner's `ExitCodeUnsupportedOptions` (common/trace.go). */
const EXIT_CODE_UNSUPPORTED_OPTIONS = 3;

/**
 * Fails a job GitLab handed out but that cannot be run (a payload of the wrong shape, executor
 * options or `run:` steps this runner does not support), as GitLab Runner's `requestJob` does
 * (commands/multi.go): the reasons go into the trace, then the final update `failed` with
 * `runner_system_failure` and exit code 3. No `running` update is sent first. The job never hangs
 * in GitLab until its stuck-job cleanup.
 */
export async function rejectJob(options: {
  client: HttpClient;
  job: { id: number; token: string };
  info: RunnerInfo;
  problems: readonly string[];
  timing?: ReporterTiming;
}): Promise<"done" | "gave-up"> {
  const buffer = new TraceBuffer();
  try {
    for (const problem of options.problems) {
      buffer.write(new TextEncoder().encode(`${ANSI.boldRed}ERROR: The job cannot be run: ${problem}${ANSI.reset}\n`));
    }
    const reporter = new JobReporter({
      client: options.client, job: options.job, info: options.info, buffer, timing: options.timing,
      onCancel: () => {}, onAbort: () => {},
    });
    return await reporter.finish({ state: "failed", failure_reason: "runner_system_failure", exit_code: EXIT_CODE_UNSUPPORTED_OPTIONS });
  } finally {
    buffer.close();
  }
}
