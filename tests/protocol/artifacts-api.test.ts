import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { downloadArtifact, MAX_ARTIFACT_REDIRECTS, uploadArtifact } from "../../src/protocol/artifacts-api.ts";
import { HttpClient } from "../../src/protocol/http-client.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

let fake: FakeGitLab;
let dir: string;
let waits: number[];
let calls: { endpoint: string; status: number }[];
let client: HttpClient;
const noSleep = async () => {};

beforeEach(async () => {
  fake = await new FakeGitLab().start();
  dir = mkdtempSync(join(tmpdir(), "runner-artifacts-api-"));
  waits = [];
  calls = [];
  client = new HttpClient(fake.url, { sleep: async (ms) => void waits.push(ms) });
  client.onResponse = (endpoint, status) => void calls.push({ endpoint, status });
});
afterEach(async () => {
  await fake.stop();
});

/** A job of the fake with an uploaded archive, as a dependency of a later job. */
async function jobWithArchive(content = "PK-archive-bytes") {
  const id = fake.enqueue(["true"]);
  const job = fake.jobs.get(id)!;
  const file = join(dir, `upload-${id}.zip`);
  writeFileSync(file, content);
  const line = await uploadArtifact(client, { jobId: id, jobToken: job.payload.token, file, filename: "artifacts.zip", query: { artifact_type: "archive" } });
  return { id, token: job.payload.token, line };
}

// The artifacts go through the coordinator's one HTTP client: GitLab Runner's retry of 429/5xx
// with Retry-After (network/retry_requester.go), its artifacts uploader's redirect handling
// (commands/helpers/artifacts_uploader.go handleRedirect), and the client's metrics.
describe("artifact transfers through the coordinator's HTTP client", () => {
  test("an upload answered 429 with Retry-After waits as told, sends a fresh body, and is counted in the metrics", async () => {
    fake.retryAfterSeconds = 7;
    fake.script("artifacts", ["429", "5xx"]);
    const { id, line } = await jobWithArchive("the archive");
    expect(line).toContain("201 Created");
    expect(waits[0]).toBe(7000);
    expect(fake.jobs.get(id)!.artifacts[0]!.data.toString()).toBe("the archive");
    expect(calls.filter((c) => c.endpoint === "upload_artifacts").map((c) => c.status)).toEqual([429, expect.any(Number), 201]);
    expect(fake.deviations).toEqual([]);
  });

  test("an upload answered 307 for ever ends after a bounded number of redirects", async () => {
    const id = fake.enqueue(["true"]);
    const file = join(dir, "loop.zip");
    writeFileSync(file, "x");
    fake.script("artifacts", Array(50).fill("307"));
    const upload = uploadArtifact(client, { jobId: id, jobToken: fake.jobs.get(id)!.payload.token, file, filename: "a.zip", query: {} });
    await expect(upload).rejects.toThrow(`redirected more than ${MAX_ARTIFACT_REDIRECTS} times`);
    expect(calls.filter((c) => c.status === 307)).toHaveLength(MAX_ARTIFACT_REDIRECTS + 1);
  });

  test("a download redirected to object storage sends no job token there, and a redirect loop there ends", async () => {
    const { id, token } = await jobWithArchive("stored bytes");
    fake.redirectDownloads = true;
    const file = join(dir, "down.zip");
    expect(await downloadArtifact(client, { jobId: id, token, file })).toContain("ok");
    expect(readFileSync(file, "utf8")).toBe("stored bytes");
    expect(calls.map((c) => c.endpoint)).toContain("download_artifacts_redirected");
    fake.storageRedirects = Infinity;
    await expect(downloadArtifact(client, { jobId: id, token, file })).rejects.toThrow("redirected more than");
    expect(fake.deviations).toEqual([]);
  });

  test("a download answered 503 is retried with the client's backoff; FF_USE_DIRECT_DOWNLOAD=false never asks for object storage", async () => {
    const { id, token } = await jobWithArchive("bytes");
    fake.redirectDownloads = true;
    fake.script("download", ["5xx", "5xx"]);
    const file = join(dir, "retried.zip");
    expect(await downloadArtifact(client, { jobId: id, token, file, directDownload: false })).toContain("ok");
    expect(readFileSync(file, "utf8")).toBe("bytes");
    expect(calls.filter((c) => c.endpoint === "download_artifacts").map((c) => c.status)).toEqual([expect.any(Number), expect.any(Number), 200]);
    expect(calls.map((c) => c.endpoint)).not.toContain("download_artifacts_redirected");
  });

  test("403 and 404 are final: one request each", async () => {
    const { id } = await jobWithArchive();
    calls = [];
    await expect(downloadArtifact(client, { jobId: id, token: "glcbt-64_wrong", file: join(dir, "f") })).rejects.toThrow("forbidden");
    await expect(downloadArtifact(client, { jobId: 99_999, token: "glcbt-64_wrong", file: join(dir, "f") })).rejects.toThrow("not found");
    expect(calls).toHaveLength(2);
  });
});
