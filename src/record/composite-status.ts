/** A job as the pipeline's status sees it. */
export interface StatusInput {
  readonly status: string;
  readonly allow_failure: boolean;
}

export type PipelineStatus = "success" | "failed" | "canceled" | "skipped";

/**
 * GitLab's composite status (gitlab-ci-yaml.md §9.2, C status/composite.rb) over the jobs of a
 * finished run — the latest attempt of each: an allowed failure or cancel counts as
 * `success_with_warnings`; only skipped jobs make `skipped`; successes, skips and warnings make
 * `success`; a cancel among them makes `canceled`; anything else left is `failed`.
 */
export function compositeStatus(jobs: readonly StatusInput[]): { status: PipelineStatus; warnings: boolean } {
  const symbols = new Set(jobs.map((j) => (j.allow_failure && (j.status === "failed" || j.status === "canceled") ? "success_with_warnings" : j.status)));
  const within = (...allowed: string[]) => symbols.size > 0 && [...symbols].every((s) => allowed.includes(s));
  const warnings = symbols.has("success_with_warnings");
  if (symbols.size === 0) return { status: "success", warnings };
  if (within("skipped")) return { status: "skipped", warnings };
  if (within("success", "skipped", "success_with_warnings")) return { status: "success", warnings };
  if (within("canceled", "success", "skipped", "success_with_warnings")) return { status: "canceled", warnings };
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
