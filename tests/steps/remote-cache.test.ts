import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presignedCache } from "../../src/steps/remote-cache/remote-cache.ts";
import { cacheObjectName, s3Presigner } from "../../src/steps/remote-cache/s3-urls.ts";
import { startS3, type TestS3 } from "../helpers/s3-server.ts";

/**
 * The shared cache over pre-signed S3 URLs (GitLab Runner's cache/s3 adapter, cache-extractor and
 * cache-archiver), against a real S3-compatible server that checks every signature.
 */
let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

const config = (over: Record<string, unknown> = {}) => ({
  Type: "s3", ...over,
  s3: { ServerAddress: s3.endpoint, AccessKey: s3.accessKey, SecretKey: s3.secretKey, BucketName: s3.bucket, Insecure: true },
});

describe("cache object names (GitLab Runner's cache/cache_test.go TestGenerateObjectName)", () => {
  const cases: [string, Record<string, unknown>, string, string | undefined][] = [
    ["the runner's own objects", {}, "key", "runner/longtoken/project/10/key"],
    ["under Path", { Path: "whatever" }, "key", "whatever/runner/longtoken/project/10/key"],
    ["shared by all runners", { Shared: true }, "key", "project/10/key"],
    ["shared, under Path", { Path: "some/path", Shared: true }, "key", "some/path/project/10/key"],
    ["a key with slashes", {}, "a/b/c", "runner/longtoken/project/10/a/b/c"],
    ["a key that leaves the project", {}, "../../../other/key", undefined],
    ["a key that is the project itself", {}, ".", undefined],
  ];
  for (const [name, over, key, expected] of cases) {
    test(name, () => expect(cacheObjectName(config(over) as never, "longtoken", 10, key)).toBe(expected as string));
  }
});

describe("the shared cache against a real S3 server", () => {
  const presign = (over: Record<string, unknown> = {}, validSeconds = 600) =>
    s3Presigner(config(over) as never, { runnerShortToken: "abcdefgh", projectId: 42, validSeconds });
  const local = () => join(mkdtempSync(join(tmpdir(), "runner-remote-cache-")), "cache.zip");

  test("missing, stored, downloaded with the object's time, then fresh; another runner's newer copy is fetched again", async () => {
    const cache = presignedCache(presign());
    const mine = local();
    expect(await cache.fetch("deps-protected", mine)).toBe("missing");
    writeFileSync(mine, "archive one");
    expect(await cache.store("deps-protected", mine)).toEqual({ stored: true });
    const theirs = local();
    expect(await cache.fetch("deps-protected", theirs)).toBe("downloaded");
    expect(readFileSync(theirs, "utf8")).toBe("archive one");
    expect(await cache.fetch("deps-protected", theirs)).toBe("fresh");
    // Another runner's upload within the same second (Last-Modified has whole seconds): its ETag
    // differs from the one recorded beside the local copy, so it is fetched again.
    const other = local();
    writeFileSync(other, "archive two");
    await cache.store("deps-protected", other);
    expect(await cache.fetch("deps-protected", theirs)).toBe("downloaded");
    expect(readFileSync(theirs, "utf8")).toBe("archive two");
    expect(statSync(theirs).mtimeMs).toBeLessThanOrEqual(Date.now());
  });

  test("the server checks the signature: a URL signed with another secret, or expired, is refused", async () => {
    const forged = presignedCache(s3Presigner({ ...config(), s3: { ...config().s3, SecretKey: "not-the-secret" } } as never, { runnerShortToken: "abcdefgh", projectId: 42, validSeconds: 600 }));
    const file = local();
    writeFileSync(file, "x");
    expect(await forged.store("k", file).catch((e: Error) => e.message)).toContain("answered 403 to PUT");
    // Signed for one second: the server refuses it once that has passed.
    const expiring = presign({}, 1)("k")!;
    await Bun.sleep(2100);
    expect((await fetch(expiring.put.url, { method: "PUT", body: "x" })).status).toBe(403);
  }, 15_000);

  test("an archive over MaxUploadedArchiveSize is not uploaded; a key leaving the project is refused", async () => {
    const cache = presignedCache(presign(), { maxUploadBytes: 10 });
    const file = local();
    writeFileSync(file, "more than ten bytes");
    expect(await cache.store("big", file)).toEqual({ stored: false, size: 19, limit: 10 });
    expect(await cache.fetch("big", local())).toBe("missing");
    expect(await cache.fetch("../../escape", local())).toBe("refused");
  });

  test("the URLs carry the signature, the trace's name of the object does not", () => {
    const object = presign()("deps")!;
    expect(object.where).toBe(`http://${s3.endpoint}/${s3.bucket}/runner/abcdefgh/project/42/deps`);
    expect(object.get).toContain("X-Amz-Signature=");
    expect(object.where).not.toContain("X-Amz");
  });
});
