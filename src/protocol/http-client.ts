import { VERSION, REVISION, executableArch } from "../version.ts";

/** One HTTP exchange with the coordinator, after GitLab Runner's retries. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** A request could not be sent or answered at all (refused, reset, timed out). */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
}

/** What to send. `json` bodies get the JSON content type; `body` bodies are sent as they are. */
export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Relative to `<url>/api/v4/`, e.g. `jobs/request`. */
  readonly path: string;
  /** An absolute address instead (where GitLab redirected to: object storage, another host). */
  readonly url?: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  /** A body, or what makes a fresh one for each attempt (a stream can be read once only). */
  readonly body?: RequestBody | (() => RequestBody);
  /** Streams a 2xx answer's body here instead of keeping it (a download); `body` is then empty. */
  readonly download?: (body: ReadableStream<Uint8Array>) => Promise<void>;
  /** Whether a JSON answer is expected (adds `Accept: application/json`). */
  readonly expectJson?: boolean;
  readonly signal?: AbortSignal;
  /** Off for requests whose body can be read once only (a stream not given as a factory). */
  readonly retry?: boolean;
  /**
   * Whole attempts beyond the HTTP-level retries (artifact transfers): a refused connection, or an
   * answer `again` says is worth another try, is tried up to `count` times, `delayMs` apart.
   */
  readonly attempts?: AttemptPolicy;
  /** The endpoint's name for metrics, e.g. `request_job`. */
  readonly endpoint?: string;
  /** How long the whole exchange may take (default {@link DEFAULT_TIMEOUT_MS}; 0: no limit but `signal`). */
  readonly timeoutMs?: number;
}

type RequestBody = Uint8Array | Blob | ReadableStream<Uint8Array> | FormData;

/** How a request is tried again as a whole (see {@link HttpRequest.attempts}). */
export interface AttemptPolicy {
  readonly count: number;
  readonly delayMs: () => number;
  /** Whether an answer (after the HTTP-level retries) is worth another attempt. */
  readonly again: (status: number) => boolean;
  /** What a later attempt changes (a download asks without `direct_download` after a failed one). */
  readonly later?: Partial<Pick<HttpRequest, "path">>;
}

const RETRIED = new Set([408, 429, 500, 502, 503, 504]);
const MAX_ATTEMPTS = 5;
/**
 * No call waits for ever on a coordinator that accepted the connection and never answers: two
 * minutes covers Workhorse's long poll (50 s by default) with room to spare.
 */
export const DEFAULT_TIMEOUT_MS = 2 * 60_000;
/**
 * The longest wait a `Retry-After` or `RateLimit-ResetTime` may impose before the next attempt
 * (GitLab sends 60 s while it migrates); a day-long one is cut to this.
 */
export const MAX_RETRY_WAIT_MS = 5 * 60_000;

/** `gitlab-runner <version> (<branch>; <go version>; <os>/<arch>)`, as GitLab Runner sends it. */
export const USER_AGENT = `gitlab-runner ${VERSION} (runner-ts ${REVISION.slice(0, 8)}; bun ${Bun.version}; ${executableArch()})`;

/**
 * The transport to one GitLab instance (docs/protocol.md §1): base URL fixing, the headers every
 * request carries, and the HTTP-level retry of 408, 429, 5xx and ≥ 512 (at most 5 attempts, waiting
 * as `RateLimit-ResetTime` or `Retry-After` say, else backing off exponentially from 100 ms).
 */
export class HttpClient {
  readonly baseUrl: string;
  /** The last non-empty `X-GitLab-Last-Update` seen on any JSON answer. */
  lastUpdate: string | undefined;
  /** Told of every answer (or of status 0 for a network error): for metrics. */
  onResponse: ((endpoint: string, status: number, durationMs: number) => void) | undefined;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(url: string, options: { sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {}) {
    this.baseUrl = apiBaseUrl(url);
    this.#sleep = options.sleep ?? abortableSleep;
  }

  /**
   * Sends `request`: 408, 429 and 5xx are retried as GitLab Runner's retry requester does; with
   * `attempts`, a refused connection or an answer worth it is then tried again as a whole.
   */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const policy = request.attempts;
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.#retried(attempt > 1 && policy?.later ? { ...request, ...policy.later } : request);
      } catch (error) {
        if (!policy || !(error instanceof NetworkError) || attempt >= policy.count || request.signal?.aborted) throw error;
        await this.#sleep(policy.delayMs(), request.signal);
        continue;
      }
      if (!policy || attempt >= policy.count || !policy.again(response.status)) return response;
      await this.#sleep(policy.delayMs(), request.signal);
    }
  }

  async #retried(request: HttpRequest): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.#once(request);
      if (request.retry === false || attempt >= MAX_ATTEMPTS || !isRetried(response.status)) return response;
      await this.#sleep(retryDelay(response.headers, attempt), request.signal);
    }
  }

  async #once(request: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    const endpoint = request.endpoint ?? request.path.split("?")[0]!.replace(/\d+/g, ":id");
    try {
      const response = await this.#exchange(request);
      this.onResponse?.(endpoint, response.status, performance.now() - started);
      return response;
    } catch (error) {
      this.onResponse?.(endpoint, 0, performance.now() - started);
      throw error;
    }
  }

  async #exchange(request: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      "User-Agent": USER_AGENT,
      "X-Request-Id": crypto.randomUUID().replaceAll("-", ""),
      ...request.headers,
    };
    let body = (typeof request.body === "function" ? request.body() : request.body) as RequestInit["body"];
    if (request.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(request.json);
    }
    if (request.expectJson) headers.Accept = "application/json";
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // 0: no limit of its own (a transfer as long as the job lets it be).
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signal = request.signal && timeout ? AbortSignal.any([request.signal, timeout]) : request.signal ?? timeout;
    const failed = (error: unknown, doing: string) => {
      if (request.signal?.aborted) return request.signal.reason;
      if (timeout?.aborted) return new NetworkError(`${doing}: no answer within ${Math.round(timeoutMs / 1000)} s`);
      return new NetworkError(`${doing}: ${error instanceof Error ? error.message : String(error)}`);
    };
    let response: Response;
    try {
      response = await fetch(request.url ?? this.baseUrl + request.path, {
        method: request.method, headers, body, signal, redirect: "manual",
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      throw failed(error, `${request.method} ${request.path.split("?")[0]}`);
    }
    let bytes: Uint8Array = new Uint8Array(0);
    try {
      if (request.download && response.ok && response.body) await request.download(response.body);
      else bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw failed(error, "reading the response");
    }
    // GitLab Runner keeps the header from any answer to a JSON call (a 204 has no body at all).
    if (request.expectJson) {
      const lastUpdate = response.headers.get("X-GitLab-Last-Update");
      if (lastUpdate) this.lastUpdate = lastUpdate;
    }
    return { status: response.status, headers: response.headers, body: bytes };
  }
}

/** `<url>` without a trailing `/` or `/ci`, plus `/api/v4/`. Only http and https are accepted. */
export function apiBaseUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`Unsupported URL scheme "${parsed.protocol}" in ${url}: only http and https work`);
  }
  let base = url.replace(/\/+$/, "");
  if (base.endsWith("/ci")) base = base.slice(0, -3);
  return `${base.replace(/\/+$/, "")}/api/v4/`;
}

/** Whether a response says it is JSON. */
export function isJson(headers: Headers): boolean {
  return (headers.get("Content-Type") ?? "").toLowerCase().startsWith("application/json");
}

/** Decodes a JSON body, or undefined when it is not JSON. */
export function decodeJson(response: HttpResponse): unknown {
  if (!isJson(response.headers)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    return undefined;
  }
}

function isRetried(status: number): boolean {
  return RETRIED.has(status) || status >= 512;
}

/**
 * `RateLimit-ResetTime` (an HTTP date), else `Retry-After` (seconds), else 100 ms × 2^(attempt−1)
 * with jitter, at most 60 s (network/retry_requester.go). A header's wait is capped at
 * {@link MAX_RETRY_WAIT_MS}, where GitLab Runner takes it as it comes.
 */
export function retryDelay(headers: Headers, attempt: number, now = Date.now()): number {
  const reset = headers.get("RateLimit-ResetTime");
  if (reset) {
    const at = Date.parse(reset);
    if (!Number.isNaN(at) && at > now) return Math.min(MAX_RETRY_WAIT_MS, at - now);
  }
  const after = headers.get("Retry-After");
  if (after && /^\d+$/.test(after.trim()) && Number(after) > 0) return Math.min(MAX_RETRY_WAIT_MS, Number(after) * 1000);
  const backoff = Math.min(60_000, 100 * 2 ** (attempt - 1));
  return backoff / 2 + Math.random() * (backoff / 2);
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
