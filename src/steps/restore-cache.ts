import type { JobContext } from "./context.ts";

/** Whether restore_cache has anything to do. */
export function hasCacheToRestore(ctx: JobContext): boolean {
  return (ctx.job.cache ?? []).some((c) => c.policy !== "push" && c.paths.length + (c.untracked ? 1 : 0) > 0);
}

/** restore_cache: the job's caches into the project directory. Cache storage is not built yet. */
export async function restoreCache(ctx: JobContext): Promise<void> {
  for (const cache of ctx.job.cache ?? []) {
    ctx.trace.warning(`Cache "${cache.key}" was not restored: this runner has no cache storage yet`);
  }
}
