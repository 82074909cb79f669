import { readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import type { PresignObject } from "./s3-urls.ts";

/** A cache shared by every runner of a fleet (`[runners.cache]`), reached through pre-signed URLs. */
export interface RemoteCache {
  /** Where a key's object is, for the trace (no signature). */
  where(key: string): string | undefined;
  /**
   * Brings the key's archive to `local` unless the local copy is as new as the object (its mtime
   * against `Last-Modified`): streamed to disk, never whole in memory.
   */
  fetch(key: string, local: string): Promise<"downloaded" | "fresh" | "missing" | "refused">;
  /** Sends `local` as the key's object (streamed from disk), unless it is over the size limit. */
  store(key: string, local: string): Promise<{ readonly stored: true } | { readonly stored: false; readonly size: number; readonly limit: number }>;
}

/** A transfer the object store refused: its status, without the URL (it carries a signature). */
export class CacheTransferError extends Error {
  override readonly name = "CacheTransferError";
}

/**
 * The cache over pre-signed URLs, as GitLab Runner's cache-extractor and cache-archiver use them:
 * HEAD for freshness, GET to download (404: no cache), PUT to upload with the headers the signature
 * covers. `maxUploadBytes` (MaxUploadedArchiveSize, 0 = none) skips an upload that is too big.
 */
export function presignedCache(presign: PresignObject, options: { readonly maxUploadBytes?: number; readonly timeoutMs?: number } = {}): RemoteCache {
  const signal = () => AbortSignal.timeout(options.timeoutMs ?? 10 * 60_000);
  return {
    where: (key) => presign(key)?.where,
    async fetch(key, local) {
      const object = presign(key);
      if (!object) return "refused";
      const head = await fetch(object.head, { method: "HEAD", signal: signal() });
      if (head.status === 404) return "missing";
      if (!head.ok) throw new CacheTransferError(`the cache server answered ${head.status} to HEAD ${object.where}`);
      const modified = Date.parse(head.headers.get("last-modified") ?? "");
      const etag = head.headers.get("etag");
      const mine = await stat(local).catch(() => undefined);
      if (mine && (await isFresh(local, mine.mtimeMs, etag, modified))) return "fresh";
      const response = await fetch(object.get, { signal: signal() });
      if (response.status === 404) return "missing";
      if (!response.ok || !response.body) throw new CacheTransferError(`the cache server answered ${response.status} to GET ${object.where}`);
      const partial = `${local}.${process.pid}.download`;
      try {
        await Bun.write(partial, response);
        if (Number.isFinite(modified)) await utimes(partial, new Date(), new Date(modified));
        await rename(partial, local);
        await remember(local, response.headers.get("etag"));
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return "downloaded";
    },
    async store(key, local) {
      const object = presign(key);
      if (!object) throw new CacheTransferError(`the cache key ${key} leaves the project's prefix`);
      const size = (await stat(local)).size;
      const limit = options.maxUploadBytes ?? 0;
      if (limit > 0 && size > limit) return { stored: false, size, limit };
      const response = await fetch(object.put.url, {
        method: "PUT", body: Bun.file(local), signal: signal(),
        headers: { ...object.put.headers, "Content-Type": "application/zip", "Content-Length": String(size) },
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new CacheTransferError(`the cache server answered ${response.status} to PUT ${object.where}`);
      await remember(local, response.headers.get("etag"));
      return { stored: true };
    },
  };
}

/**
 * Whether the local copy is the object: the object's ETag recorded beside it when it was last
 * downloaded or uploaded; without one, GitLab Runner's rule (the local file's time is not older than
 * `Last-Modified`). The ETag matters in a fleet: `Last-Modified` has whole seconds, and another
 * runner's upload within the same second would otherwise look no newer than this runner's copy.
 */
async function isFresh(local: string, mtimeMs: number, etag: string | null, modified: number): Promise<boolean> {
  const recorded = await readFile(`${local}.etag`, "utf8").catch(() => undefined);
  if (recorded !== undefined && etag) return recorded === etag;
  return Number.isFinite(modified) && mtimeMs >= modified;
}

async function remember(local: string, etag: string | null): Promise<void> {
  if (etag) await writeFile(`${local}.etag`, etag);
  else await rm(`${local}.etag`, { force: true });
}
