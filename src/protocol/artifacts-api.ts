import { createWriteStream } from "node:fs";
import { NetworkError, type HttpClient, type HttpResponse } from "./http-client.ts";

/** Uploading or downloading artifacts failed for good. */
export class ArtifactTransferError extends Error {
  override readonly name = "ArtifactTransferError";
}

/** Redirects followed for one transfer: a 307 loop ends here. */
export const MAX_ARTIFACT_REDIRECTS = 5;
/** Whole attempts (the client's) after a connection failed or an answer stayed bad through its HTTP retries. */
const TRANSFER_ATTEMPTS = 3;

/**
 * `POST /api/v4/jobs/:id/artifacts` (docs/protocol.md §7.1) through the coordinator's HTTP client (its retries,
 * `Retry-After`, metrics): one multipart part named `file`, the archive streamed from disk afresh
 * for every attempt. 201 is success; a 307 moves the upload to the Location's scheme and host, as
 * GitLab Runner's artifacts uploader does, at most {@link MAX_ARTIFACT_REDIRECTS} times; 403 and 413
 * are final; a connection failure or another answer is tried {@link TRANSFER_ATTEMPTS} times, 1–5 s apart.
 */
export async function uploadArtifact(client: HttpClient, options: {
  jobId: number;
  jobToken: string;
  file: string;
  filename: string;
  query: { artifact_type?: string; artifact_format?: string; expire_in?: string };
  signal?: AbortSignal;
}): Promise<string> {
  const query = new URLSearchParams(Object.entries(options.query).filter((e): e is [string, string] => !!e[1]));
  const path = `jobs/${options.jobId}/artifacts${query.size > 0 ? `?${query}` : ""}`;
  const id = options.jobId;
  // One boundary for every attempt's fresh body, so the header stays right.
  const boundary = multipartBoundary();
  const contentType = `multipart/form-data; boundary=${boundary}`;
  let origin: string | undefined;
  for (let redirects = 0; ; redirects++) {
    const response = await transfer(() => client.send({
      method: "POST", path, ...(origin ? { url: `${origin}/api/v4/${path}` } : {}), endpoint: "upload_artifacts", timeoutMs: 0,
      headers: { "JOB-TOKEN": options.jobToken, "Content-Type": contentType },
      body: () => multipartFile(options.file, options.filename, boundary).body,
      attempts: { count: TRANSFER_ATTEMPTS, delayMs: () => 1000 + Math.random() * 4000, again: (s) => s !== 201 && s !== 307 && s !== 403 && s !== 413 },
      ...(options.signal ? { signal: options.signal } : {}),
    }), options.signal, `Uploading artifacts to coordinator... error`);
    const status = response.status;
    if (status === 201) return `Uploading artifacts as "${options.query.artifact_type ?? "archive"}" to coordinator... 201 Created  id=${id} responseStatus=201 Created`;
    if (status === 307) {
      if (redirects >= MAX_ARTIFACT_REDIRECTS) {
        throw new ArtifactTransferError(`Uploading artifacts to coordinator... redirected more than ${MAX_ARTIFACT_REDIRECTS} times  id=${id}`);
      }
      origin = redirectOrigin(response, origin ?? client.baseUrl);
      continue;
    }
    if (status === 403) throw new ArtifactTransferError(`Uploading artifacts to coordinator... forbidden  id=${id} responseStatus=403 Forbidden`);
    if (status === 413) throw new ArtifactTransferError(`Uploading artifacts to coordinator... too large archive  id=${id} responseStatus=413 Request Entity Too Large`);
    throw new ArtifactTransferError(`Uploading artifacts to coordinator... failed  id=${id} responseStatus=${status}`);
  }
}

/**
 * `GET /api/v4/jobs/:id/artifacts` (docs/protocol.md §7.2) through the coordinator's HTTP client, with the
 * dependency's token, streamed to `file`. `direct_download=true` on the first request
 * (FF_USE_DIRECT_DOWNLOAD); a redirect (to object storage) is followed without the job token, at
 * most {@link MAX_ARTIFACT_REDIRECTS} times; 401, 403 and 404 are final; anything else is tried
 * {@link TRANSFER_ATTEMPTS} times, 1 s apart (the client's attempts).
 */
export async function downloadArtifact(client: HttpClient, options: {
  jobId: number;
  token: string;
  file: string;
  signal?: AbortSignal;
  /** `FF_USE_DIRECT_DOWNLOAD` (on by default): ask for object storage's address on the first request. */
  directDownload?: boolean;
}): Promise<string> {
  const id = options.jobId;
  // node:stream is loaded when an artifact is: every built-in a module imports is loaded at start.
  const save = async (body: ReadableStream<Uint8Array>) => {
    const [{ pipeline }, { Readable }] = await Promise.all([import("node:stream/promises"), import("node:stream")]);
    await pipeline(Readable.fromWeb(body as never), createWriteStream(options.file, { mode: 0o600 }));
  };
  const again = (s: number) => !(s >= 200 && s < 400) && s !== 401 && s !== 403 && s !== 404;
  let url: string | undefined;
  let response: HttpResponse | undefined;
  for (let redirects = 0; ; redirects++) {
    const at = url;
    const plain = `jobs/${id}/artifacts`;
    const path = redirects === 0 && options.directDownload !== false ? `${plain}?direct_download=true` : plain;
    response = await transfer(() => client.send({
      method: "GET", path, endpoint: at ? "download_artifacts_redirected" : "download_artifacts", timeoutMs: 0, download: save,
      // Object storage gets no job token.
      ...(at ? { url: at } : { headers: { "JOB-TOKEN": options.token } }),
      // direct_download on the first attempt only (FF_USE_DIRECT_DOWNLOAD), as before the client took the attempts over.
      attempts: { count: TRANSFER_ATTEMPTS, delayMs: () => 1000, again, later: { path: plain } },
      ...(options.signal ? { signal: options.signal } : {}),
    }), options.signal, `Downloading artifacts from coordinator... error  id=${id}`);
    const location = response.headers.get("Location");
    if (response.status < 300 || response.status >= 400 || !location) break;
    if (redirects >= MAX_ARTIFACT_REDIRECTS) {
      throw new ArtifactTransferError(`Downloading artifacts from coordinator... redirected more than ${MAX_ARTIFACT_REDIRECTS} times  id=${id}`);
    }
    url = new URL(location, at ?? client.baseUrl + path).toString();
  }
  const status = response.status;
  if (status === 200) return `Downloading artifacts from coordinator... ok  id=${id} responseStatus=200 OK`;
  if (status === 401 || status === 403) throw new ArtifactTransferError(`Downloading artifacts from coordinator... forbidden  id=${id} responseStatus=${status}`);
  if (status === 404) throw new ArtifactTransferError(`Downloading artifacts from coordinator... not found  id=${id} responseStatus=404 Not Found`);
  throw new ArtifactTransferError(`Downloading artifacts from coordinator... failed  id=${id} responseStatus=${status}`);
}

/** An exchange; a connection that failed through every attempt is the transfer's failure. */
async function transfer(send: () => Promise<HttpResponse>, signal: AbortSignal | undefined, failure: string): Promise<HttpResponse> {
  try {
    return await send();
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (!(error instanceof NetworkError)) throw error;
    throw new ArtifactTransferError(`${failure}: ${error.message}`);
  }
}

/** Where a 307 moves an upload: the Location's scheme and host (GitLab Runner's handleRedirect); only http(s). */
function redirectOrigin(response: HttpResponse, current: string): string {
  const location = new URL(response.headers.get("Location") ?? current, current);
  if (location.protocol !== "http:" && location.protocol !== "https:") {
    throw new ArtifactTransferError(`Uploading artifacts to coordinator... redirected to an unsupported scheme ${location.protocol}`);
  }
  return location.origin;
}

/**
 * A `multipart/form-data` body with one part named `file` (RFC 7578), streamed from disk with chunked
 * transfer encoding as GitLab Runner sends it. Bun's FormData would hold the whole file in memory
 * (2 GB of RSS for a 1 GiB artifact); this keeps it flat.
 */
export function multipartFile(path: string, filename: string, boundary = multipartBoundary()): { body: ReadableStream<Uint8Array>; contentType: string } {
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

/** A multipart boundary no file content will contain by chance. */
export function multipartBoundary(): string {
  return `----runner${crypto.randomUUID().replaceAll("-", "")}`;
}
