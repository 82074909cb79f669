/** A job as the pipeline's status sees it. */
export interface StatusInput {
  readonly status: string;
  readonly allow_failure: boolean;
}

export type PipelineStatus = "success" | "failed" | "canceled" | "skipped" | "manual";

/**
 * GitLab's composite status (docs/pipeline.md §9.2, C status/composite.rb) over the jobs of a
 * finished run — the latest attempt of each: an allowed failure or cancel counts as
 * `success_with_warnings`, an optional manual job nobody played as `ignored`; only skipped (or
 * ignored) jobs make `skipped`; successes, skips, warnings and ignored jobs make `success`; a cancel
 * among them makes `canceled`; a blocking manual job nobody played makes `manual` (GitLab's
 * "blocked"); anything else left is `failed`.
 */
export function compositeStatus(jobs: readonly StatusInput[], options: { dag?: boolean } = {}): { status: PipelineStatus; warnings: boolean } {
  const symbols = new Set(jobs.map((j) => {
    if (j.allow_failure && (j.status === "failed" || j.status === "canceled")) return "success_with_warnings";
    return j.allow_failure && j.status === "manual" ? "ignored" : j.status;
  }));
  const within = (...allowed: string[]) => symbols.size > 0 && [...symbols].every((s) => allowed.includes(s));
  const warnings = symbols.has("success_with_warnings");
  if (symbols.size === 0) return { status: "success", warnings };
  // The previous status of a DAG job: a skipped (or ignored) need makes it skipped.
  if (options.dag && (symbols.has("skipped") || symbols.has("ignored"))) return { status: "skipped", warnings };
  if (within("skipped", "ignored")) return { status: "skipped", warnings };
  if (within("success", "skipped", "success_with_warnings", "ignored")) return { status: "success", warnings };
  if (within("canceled", "success", "skipped", "success_with_warnings", "ignored")) return { status: "canceled", warnings };
  if (symbols.has("manual") && !symbols.has("failed")) return { status: "manual", warnings };
  return { status: "failed", warnings };
}

/** The latest attempt of each job (a retried attempt no longer counts, as in GitLab). */
export function latestAttempts<T extends { readonly job: string }>(jobs: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const job of jobs) {
    latest.delete(job.job);
    latest.set(job.job, job);
  }
  return [...latest.values()];
}
