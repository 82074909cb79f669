import type { JobDefinition } from "../pipeline/definitions.ts";
import { compositeStatus } from "../record/composite-status.ts";

/** How a job the current one waits for ended. */
export interface Predecessor {
  readonly status: string;
  readonly allowFailure: boolean;
}

/**
 * Whether a job runs once the jobs it waits for have ended (docs/pipeline.md §8.3): their composite
 * status — with the DAG rules for a job with `needs`, where a skipped need makes it skipped — decides.
 * `on_success`, `manual` and `delayed` run after success (a stage job also after skipped jobs),
 * `on_failure` after a failure, `always` after anything but a cancel. Returns why not, or undefined.
 */
export function reasonNotToRun(job: JobDefinition, predecessors: readonly Predecessor[]): string | undefined {
  const dag = job.needs !== undefined;
  const { status } = compositeStatus(predecessors.map((p) => ({ status: p.status, allow_failure: p.allowFailure })), { dag });
  switch (job.when) {
    case "on_failure":
      return status === "failed" ? undefined : "no job it waits for failed (when: on_failure)";
    case "always":
      return status === "canceled" ? "a job it waits for was canceled (when: always)" : undefined;
    default:
      if (status === "success" || (status === "skipped" && !dag)) return undefined;
      if (status === "skipped") return `a job it needs was skipped (when: ${job.when})`;
      if (status === "canceled") return `a job it waits for was canceled (when: ${job.when})`;
      return `a job it waits for failed (when: ${job.when})`;
  }
}
