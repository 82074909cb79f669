import { mkdir, rename, rm } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { collectEntries } from "./archive/collect.ts";
import type { JobContext } from "./context.ts";
import type { RemoteCache } from "./remote-cache/remote-cache.ts";
import { cacheArchivePath, cacheKey, cachePolicy } from "./restore-cache.ts";
import { expand, untrackedLister } from "./local-files.ts";
import { variableValue } from "../job/variables.ts";

/** Whether a cache should be saved for a job that ended as `succeeded` says. */
export function hasCacheToArchive(ctx: JobContext, succeeded: boolean): boolean {
  return (ctx.job.cache ?? []).some((c) => c.when === "always" || c.when === (succeeded ? "on_success" : "on_failure"));
}

/**
 * archive_cache / archive_cache_on_failure (docs/protocol.md §8.1): each cache whose `when` fits and whose policy is
 * not `pull` is zipped into its key's archive, replacing the old one at once. Failures only warn.
 */
export async function archiveCache(ctx: JobContext): Promise<void> {
  const succeeded = ctx.primary === undefined;
  const caches = ctx.job.cache ?? [];
  if (caches.length > 0 && caches.every((c) => cachePolicy(ctx, c) === "pull")) ctx.record?.skip("job.cache_save", "policy: pull");
  for (const cache of caches) {
    if (!(cache.when === "always" || cache.when === (succeeded ? "on_success" : "on_failure"))) continue;
    if (cachePolicy(ctx, cache) === "pull") {
      ctx.trace.stage.info(`Not uploading cache ${expand(ctx, cache.key)} due to policy`);
      continue;
    }
    const key = cacheKey(ctx, cache.key);
    if (key === undefined || !ctx.settings.cacheDir) {
      ctx.trace.stage.warning(`Cache "${cache.key}" was not saved: ${key === undefined ? "its key is empty" : "no cache directory is configured"}`);
      continue;
    }
    const { projectDir } = ctx.executor.directories;
    ctx.trace.stage.info(`Creating cache ${key}...`);
    const archive = cacheArchivePath(ctx, key);
    const partial = `${archive}.${process.pid}.tmp`;
    try {
      const collected = await collectEntries({
        files: ctx.executor.files, projectDir, kind: "cache", paths: cache.paths.map((p) => expand(ctx, p)),
        untracked: untrackedLister(ctx, cache.untracked),
      });
      for (const line of collected.lines) ctx.trace.stage.println(line);
      for (const warning of collected.warnings) ctx.trace.stage.warning(warning);
      await mkdir(dirname(archive), { recursive: true });
      await writeCacheArchive(ctx, projectDir, collected.entries, partial);
      await rename(partial, archive);
      if (ctx.settings.remoteCache) await storeShared(ctx, ctx.settings.remoteCache, key, archive);
      ctx.trace.stage.info("Created cache");
    } catch (error) {
      await rm(partial, { force: true });
      ctx.trace.stage.warning(`Failed to create cache: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The new archive sent to the shared cache (docs/protocol.md §8.2); over MaxUploadedArchiveSize it stays local. */
async function storeShared(ctx: JobContext, remote: RemoteCache, key: string, archive: string): Promise<void> {
  ctx.trace.stage.info(`Uploading ${basename(archive)} to ${remote.where(key) ?? key}`);
  const stored = await remote.store(key, archive);
  if (!stored.stored) {
    ctx.trace.stage.warning(`${basename(archive)} is ${stored.size} bytes, over MaxUploadedArchiveSize (${stored.limit} bytes): not uploaded to the shared cache`);
  }
}

/** zstd levels of `CACHE_COMPRESSION_LEVEL`, as GitLab Runner names them. */
const ZSTD_LEVELS: Record<string, number> = { fastest: 1, fast: 2, default: 3, slow: 9, slowest: 19 };

/**
 * The cache archive in `CACHE_COMPRESSION_FORMAT` (`zip`, the default, or `tarzstd`) at
 * `CACHE_COMPRESSION_LEVEL` (`fastest` … `slowest`; a zip at `fastest` is stored uncompressed).
 */
async function writeCacheArchive(ctx: JobContext, projectDir: string, entries: readonly string[], file: string): Promise<void> {
  const format = (variableValue(ctx.variables, "CACHE_COMPRESSION_FORMAT") ?? "zip").toLowerCase() || "zip";
  const level = (variableValue(ctx.variables, "CACHE_COMPRESSION_LEVEL") ?? "default").toLowerCase() || "default";
  if (!(level in ZSTD_LEVELS)) ctx.trace.stage.warning(`CACHE_COMPRESSION_LEVEL ${level}: not one of ${Object.keys(ZSTD_LEVELS).join(", ")}; default is used`);
  if (format === "tarzstd") {
    return (await import("./archive/tar-zstd.ts")).writeTarZstd(ctx.executor.files, projectDir, entries, file, ZSTD_LEVELS[level] ?? 3);
  }
  if (format !== "zip") ctx.trace.stage.warning(`CACHE_COMPRESSION_FORMAT ${format}: not zip or tarzstd; zip is used`);
  return (await import("./archive/zip.ts")).writeZip(ctx.executor.files, projectDir, entries, file, { compress: level !== "fastest" });
}
