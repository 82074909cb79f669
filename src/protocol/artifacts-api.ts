import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { abortableSleep, USER_AGENT } from "./http-client.ts";

/** Uploading or downloading artifacts failed for good. */
export class ArtifactTransferError extends Error {
  override readonly name = "ArtifactTransferError";
}

/**
 * `POST /api/v4/jobs/:id/artifacts` (§7.1): one multipart part named `file`, the archive streamed
 * from disk. 201 is success; a 307 is followed to its scheme and host; 403 and 413 are final; 503 is
 * retried up to 6 times and anything else up to 3, 1–5 s apart.
 */
export async function uploadArtifact(options: {
  baseUrl: string;
  jobId: number;
  jobToken: string;
  file: string;
  filename: string;
  query: { artifact_type?: string; artifact_format?: string; expire_in?: string };
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}): Promise<string> {
  const sleep = options.sleep ?? abortableSleep;
  const query = new URLSearchParams(Object.entries(options.query).filter((e): e is [string, string] => !!e[1]));
  let url = `${options.baseUrl}jobs/${options.jobId}/artifacts${query.size > 0 ? `?${query}` : ""}`;
  let tries503 = 0;
  let triesOther = 0;
  for (;;) {
    const multipart = multipartFile(options.file, options.filename);
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST", body: multipart.body, redirect: "manual", signal: options.signal,
        headers: {
          "JOB-TOKEN": options.jobToken, "User-Agent": USER_AGENT, "X-Request-Id": requestId(),
          "Content-Type": multipart.contentType,
        },
      });
      await response.arrayBuffer();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (++triesOther > 3) throw new ArtifactTransferError(`Uploading artifacts to coordinator... error: ${String(error)}`);
      await sleep(1000 + Math.random() * 4000, options.signal);
      continue;
    }
    const status = response.status;
    if (status === 201) return `Uploading artifacts as "${options.query.artifact_type ?? "archive"}" to coordinator... 201 Created  id=${options.jobId} responseStatus=201 Created`;
    if (status === 307) {
      const location = new URL(response.headers.get("Location") ?? url, url);
      const target = new URL(url);
      target.protocol = location.protocol;
      target.host = location.host;
      url = target.toString();
      continue;
    }
    if (status === 403) throw new ArtifactTransferError(`Uploading artifacts to coordinator... forbidden  id=${options.jobId} responseStatus=403 Forbidden`);
    if (status === 413) throw new ArtifactTransferError(`Uploading artifacts to coordinator... too large archive  id=${options.jobId} responseStatus=413 Request Entity Too Large`);
    const exhausted = status === 503 ? ++tries503 >= 6 : ++triesOther >= 3;
    if (exhausted) throw new ArtifactTransferError(`Uploading artifacts to coordinator... failed  id=${options.jobId} responseStatus=${status}`);
    await sleep(1000 + Math.random() * 4000, options.signal);
  }
}

/**
 * `GET /api/v4/jobs/:id/artifacts` (§7.2) with the dependency's token, streamed to `file`.
 * `direct_download=true` on the first attempt; a redirect is followed without the job token;
 * 401, 403 and 404 are final; anything else is retried twice, 1 s apart.
 */
export async function downloadArtifact(options: {
  baseUrl: string;
  jobId: number;
  token: string;
  file: string;
  signal?: AbortSignal;
  /** `FF_USE_DIRECT_DOWNLOAD` (on by default): ask for object storage's address on the first attempt. */
  directDownload?: boolean;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}): Promise<string> {
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 0; ; attempt++) {
    const direct = attempt === 0 && options.directDownload !== false;
    const url = `${options.baseUrl}jobs/${options.jobId}/artifacts${direct ? "?direct_download=true" : ""}`;
    let response: Response;
    try {
      response = await fetch(url, {
        redirect: "manual", signal: options.signal,
        headers: { "JOB-TOKEN": options.token, "User-Agent": USER_AGENT, "X-Request-Id": requestId() },
      });
      if (response.status >= 300 && response.status < 400 && response.headers.get("Location")) {
        // Object storage gets no job token.
        await response.arrayBuffer();
        response = await fetch(new URL(response.headers.get("Location")!, url), { signal: options.signal, headers: { "User-Agent": USER_AGENT } });
      }
      if (response.status === 200 && response.body) {
        await pipeline(Readable.fromWeb(response.body as never), createWriteStream(options.file, { mode: 0o600 }));
        return `Downloading artifacts from coordinator... ok  id=${options.jobId} responseStatus=200 OK`;
      }
      await response.arrayBuffer();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (attempt >= 2) throw new ArtifactTransferError(`Downloading artifacts from coordinator... error  id=${options.jobId}: ${String(error)}`);
      await sleep(1000, options.signal);
      continue;
    }
    const status = response.status;
    if (status === 401 || status === 403) throw new ArtifactTransferError(`Downloading artifacts from coordinator... forbidden  id=${options.jobId} responseStatus=${status}`);
    if (status === 404) throw new ArtifactTransferError(`Downloading artifacts from coordinator... not found  id=${options.jobId} responseStatus=404 Not Found`);
    if (attempt >= 2) throw new ArtifactTransferError(`Downloading artifacts from coordinator... failed  id=${options.jobId} responseStatus=${status}`);
    await sleep(1000, options.signal);
  }
}

/**
 * A `multipart/form-data` body with one part named `file` (RFC 7578), streamed from disk with chunked
 * transfer encoding as GitLab Runner sends it. Bun's FormData would hold the whole file in memory
 * (2 GB of RSS for a 1 GiB artifact); this keeps it flat.
 */
export function multipartFile(path: string, filename: string): { body: ReadableStream<Uint8Array>; contentType: string } {
  const boundary = `----runner${crypto.randomUUID().replaceAll("-", "")}`;
  const quoted = filename.replace(/[\\"\r\n]/g, (c) => (c === "\r" || c === "\n" ? " " : `\\${c}`));
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted}"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  let chunks: AsyncIterator<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
    },
    async pull(controller) {
      chunks ??= (Bun.file(path).stream() as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      const { done, value } = await chunks.next();
      if (done) {
        controller.enqueue(tail);
        controller.close();
      } else controller.enqueue(value);
    },
    cancel() {
      void chunks?.return?.();
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function requestId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
