import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { projectPath } from "../protocol/token.ts";
import type { Cache } from "../protocol/types.ts";
import { sanitizeCacheKey } from "./cache-key.ts";
import type { JobContext } from "./context.ts";
import type { RemoteCache } from "./remote-cache/remote-cache.ts";
import { expand } from "./local-files.ts";
import { variableValue } from "../job/variables.ts";

/** Whether restore_cache has anything to do or say (a push-only cache says it is not downloaded). */
export function hasCacheToRestore(ctx: JobContext): boolean {
  return (ctx.job.cache ?? []).length > 0;
}

/** The cache's policy with variables expanded (`pull-push` when empty). */
export function cachePolicy(ctx: JobContext, cache: Cache): string {
  return expand(ctx, cache.policy || "pull-push");
}

/** The sanitized key of a cache: its key expanded, or `<job name>/<ref>` when it has none. */
export function cacheKey(ctx: JobContext, raw: string): string | undefined {
  const expanded = expand(ctx, raw) || `${ctx.job.job_info.name}/${ctx.job.git_info.ref}`;
  const key = sanitizeCacheKey(expanded);
  if (key !== expanded && key !== "") ctx.trace.stage.warning(`cache key "${expanded}" sanitized to "${key}"`);
  return key === "" ? undefined : key;
}

/** `<cache dir>/<project path>/<key>/cache.zip` (docs/protocol.md §8.1). */
export function cacheArchivePath(ctx: JobContext, key: string): string {
  return join(ctx.settings.cacheDir!, projectPath(ctx.job.git_info.repo_url, ctx.job.job_info.project_id), key, "cache.zip");
}

/**
 * restore_cache (docs/protocol.md §8.1): for each cache not `push`-only, its key, then each fallback key, then
 * `CACHE_FALLBACK_KEY`, until one is found and extracted. A missing cache is only a warning.
 */
export async function restoreCache(ctx: JobContext): Promise<void> {
  const caches = ctx.job.cache ?? [];
  if (caches.length > 0 && caches.every((c) => cachePolicy(ctx, c) === "push")) ctx.record?.skip("job.cache_restore", "policy: push");
  for (const cache of caches) {
    const policy = cachePolicy(ctx, cache);
    if (policy === "push") {
      ctx.trace.stage.info(`Not downloading cache ${expand(ctx, cache.key)} due to policy`);
      continue;
    }
    if (!ctx.settings.cacheDir) {
      ctx.trace.stage.warning(`Cache "${cache.key}" was not restored: no cache directory is configured`);
      continue;
    }
    const { projectDir } = ctx.executor.directories;
    const fallback = variableValue(ctx.variables, "CACHE_FALLBACK_KEY");
    const candidates = [cache.key, ...(cache.fallback_keys ?? []), ...(fallback && !fallback.endsWith("-protected") ? [fallback] : [])];
    let restored = false;
    for (const raw of candidates) {
      const key = cacheKey(ctx, raw);
      if (key === undefined) continue;
      ctx.trace.stage.info(`Checking cache for ${key}...`);
      const archive = cacheArchivePath(ctx, key);
      if (ctx.settings.remoteCache) await fetchShared(ctx, ctx.settings.remoteCache, key, archive);
      if (!existsSync(archive)) {
        ctx.trace.stage.warning(`${archive}: file does not exist`);
        continue;
      }
      try {
        await extractCacheArchive(archive, ctx, projectDir);
        ctx.trace.stage.info("Successfully extracted cache");
        restored = true;
        break;
      } catch (error) {
        ctx.trace.stage.warning(`Failed to extract cache: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (!restored) ctx.trace.stage.warning("Failed to extract cache");
  }
}

/**
 * The shared cache's object of `key` brought to the local archive (docs/protocol.md §8.2): fresh
 * local copies are not downloaded again; a missing object is no cache; a failed download only
 * warns (the local copy, if any, is still extracted).
 */
async function fetchShared(ctx: JobContext, remote: RemoteCache, key: string, archive: string): Promise<void> {
  const where = remote.where(key);
  if (!where) {
    ctx.trace.stage.warning(`cache key ${key} leaves the project's prefix: the shared cache is not asked`);
    return;
  }
  try {
    await mkdir(dirname(archive), { recursive: true });
    ctx.trace.stage.info(`Downloading cache from ${where}`);
    const got = await remote.fetch(key, archive);
    if (got === "fresh") ctx.trace.stage.info(`${basename(archive)} is up to date`);
    if (got === "missing") ctx.trace.stage.warning(`${where}: not found in the shared cache`);
  } catch (error) {
    ctx.trace.stage.warning(`Failed to download cache: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A cache archive is a zip or, made with `CACHE_COMPRESSION_FORMAT=tarzstd`, a tar.zst: told by its first bytes. */
async function extractCacheArchive(archive: string, ctx: JobContext, projectDir: string): Promise<void> {
  const head = Buffer.from(await Bun.file(archive).slice(0, 4).arrayBuffer());
  const { ZSTD_MAGIC, extractTarZstd } = await import("./archive/tar-zstd.ts");
  if (head.equals(ZSTD_MAGIC)) await extractTarZstd(archive, ctx.executor.files, projectDir);
  else await (await import("./archive/zip.ts")).extractZip(archive, ctx.executor.files, projectDir);
}
