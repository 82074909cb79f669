import type { JobContext } from "./context.ts";

/** Whether a cache should be saved for a job that ended as `succeeded` says. */
export function hasCacheToArchive(ctx: JobContext, succeeded: boolean): boolean {
  return (ctx.job.cache ?? []).some(
    (c) => c.policy !== "pull" && (c.when === "always" || c.when === (succeeded ? "on_success" : "on_failure")),
  );
}

/** archive_cache / archive_cache_on_failure: saves the job's caches. Cache storage is not built yet. */
export async function archiveCache(ctx: JobContext): Promise<void> {
  for (const cache of ctx.job.cache ?? []) {
    ctx.trace.warning(`Cache "${cache.key}" was not saved: this runner has no cache storage yet`);
  }
}
