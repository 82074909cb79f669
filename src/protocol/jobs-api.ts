import { decodeJson, isJson, NetworkError, type HttpClient, type HttpResponse } from "./http-client.ts";
import { checkJobPayload } from "./job-payload.ts";
import type { RunnerInfo } from "./runner-info.ts";
import type { JobResponse } from "./types.ts";

/** What `POST /jobs/request` gave (docs/protocol.md §3.4): a job, none, or why not, with the runner's health verdict. */
export type JobRequestResult =
  | { readonly kind: "job"; readonly job: JobResponse }
  /** GitLab handed out a job that cannot be run (docs/protocol.md §4): it must still be failed, with these reasons. */
  | { readonly kind: "invalid-job"; readonly id: number; readonly token: string; readonly problems: readonly string[] }
  | { readonly kind: "no-job" }
  | { readonly kind: "forbidden"; readonly status: 403 }
  | { readonly kind: "unavailable"; readonly status: 503 }
  | { readonly kind: "failed"; readonly status: number; readonly message: string }
  | { readonly kind: "client-error"; readonly message: string };

/** Whether a request result counts against the runner's health (403 and network errors do). */
export function isUnhealthy(result: JobRequestResult): boolean {
  return result.kind === "forbidden" || result.kind === "client-error";
}

/** `POST /api/v4/jobs/request`: asks for a job; the server may hold the request (long poll). */
export async function requestJob(
  client: HttpClient,
  request: { token: string; info: RunnerInfo; systemId?: string; signal?: AbortSignal; timeoutMs?: number },
): Promise<JobRequestResult> {
  let response: HttpResponse;
  try {
    response = await client.send({
      method: "POST", path: "jobs/request", endpoint: "request_job", expectJson: true, signal: request.signal,
      ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
      headers: { "RUNNER-TOKEN": request.token },
      json: {
        info: request.info, token: request.token,
        ...(request.systemId ? { system_id: request.systemId } : {}),
        ...(client.lastUpdate ? { last_update: client.lastUpdate } : {}),
      },
    });
  } catch (error) {
    if (error instanceof NetworkError) return { kind: "client-error", message: error.message };
    throw error;
  }
  switch (response.status) {
    case 201: {
      if (!isJson(response.headers)) return { kind: "failed", status: 201, message: "the job is not JSON (Content-Type is not application/json)" };
      const body = decodeJson(response);
      if (body === undefined) return { kind: "failed", status: 201, message: "the job is not valid JSON" };
      const checked = checkJobPayload(body);
      if (checked.kind === "unreadable") return { kind: "failed", status: 201, message: `the job has no id or token: ${checked.problems.join("; ")}` };
      if (checked.kind === "invalid") return { kind: "invalid-job", id: checked.id, token: checked.token, problems: checked.problems };
      return { kind: "job", job: checked.job };
    }
    case 204:
      return { kind: "no-job" };
    case 403:
      return { kind: "forbidden", status: 403 };
    case 503:
      return { kind: "unavailable", status: 503 };
    default:
      return { kind: "failed", status: response.status, message: errorMessage(response) };
  }
}

/** What a job update or a trace patch said about the job (docs/protocol.md §5.3, §6.3). */
export interface JobStatusHeaders {
  /** `Job-Status` of the answer, if any. */
  readonly jobStatus: string | undefined;
  /** A positive `X-GitLab-Trace-Update-Interval`, in seconds. */
  readonly updateInterval: number | undefined;
}

function statusHeaders(response: HttpResponse): JobStatusHeaders {
  const interval = Number(response.headers.get("X-GitLab-Trace-Update-Interval"));
  return {
    jobStatus: response.headers.get("Job-Status") ?? undefined,
    updateInterval: Number.isInteger(interval) && interval > 0 ? Math.min(interval, 900) : undefined,
  };
}

/** The outcome of `PUT /jobs/:id`, in GitLab Runner's order of checks (docs/protocol.md §5.3). */
export type UpdateJobResult = JobStatusHeaders & {
  readonly kind: "ok" | "accepted" | "abort" | "trace-reset" | "failed";
  readonly status: number;
};

/** The body of `PUT /jobs/:id` beyond `info` and `token`. */
export interface JobUpdate {
  readonly state?: "running" | "success" | "failed";
  readonly failure_reason?: string;
  readonly exit_code?: number;
  readonly output: { readonly checksum?: string; readonly bytesize?: number };
}

/** `PUT /api/v4/jobs/:id`: reports the job's state. */
export async function updateJob(
  client: HttpClient,
  job: { id: number; token: string },
  update: JobUpdate & { info: RunnerInfo; signal?: AbortSignal },
): Promise<UpdateJobResult> {
  const { info, signal, ...fields } = update;
  let response: HttpResponse;
  try {
    response = await client.send({
      method: "PUT", path: `jobs/${job.id}`, endpoint: "update_job", signal,
      headers: { "JOB-TOKEN": job.token },
      json: {
        info, token: job.token,
        ...(fields.state ? { state: fields.state } : {}),
        ...(fields.failure_reason ? { failure_reason: fields.failure_reason } : {}),
        ...(fields.output.checksum ? { checksum: fields.output.checksum } : {}),
        output: fields.output,
        ...(fields.exit_code ? { exit_code: fields.exit_code } : {}),
      },
    });
  } catch (error) {
    if (error instanceof NetworkError) return { kind: "failed", status: 0, jobStatus: undefined, updateInterval: undefined };
    throw error;
  }
  // GitLab Runner's createUpdateJobResult (network/gitlab.go), in its order. Every other answer —
  // 400, 409, 422, 429 once the HTTP retries are spent, 5xx — is a failed attempt, tried again.
  const headers = statusHeaders(response);
  const base = { ...headers, status: response.status };
  if (headers.jobStatus === "canceled" || headers.jobStatus === "failed" || response.status === 403) return { ...base, kind: "abort" };
  if (response.status === 200) return { ...base, kind: "ok" };
  if (response.status === 202) return { ...base, kind: "accepted" };
  if (response.status === 412) return { ...base, kind: "trace-reset" };
  if (response.status === 404) return { ...base, kind: "abort" };
  return { ...base, kind: "failed" };
}

/**
 * The outcome of `PATCH /jobs/:id/trace`, as GitLab Runner's createPatchTraceResult decides it: abort
 * on `Job-Status: canceled|failed` or 403, ok on 202, a range mismatch on 416, not-found on 404, and
 * a failed attempt on anything else (400, 409, 422, 429, 5xx, no answer).
 */
export type PatchTraceResult = JobStatusHeaders &
  (
    | { readonly kind: "ok"; readonly sentOffset: number }
    | { readonly kind: "range-mismatch"; readonly sentOffset: number }
    | { readonly kind: "abort" | "not-found" | "failed"; readonly status: number }
  );

/** `PATCH /api/v4/jobs/:id/trace`: appends `content`, which starts at byte `offset` of the trace. */
export async function patchTrace(
  client: HttpClient,
  job: { id: number; token: string },
  patch: { offset: number; content: Uint8Array | Blob; debugTrace?: boolean; signal?: AbortSignal },
): Promise<PatchTraceResult> {
  let response: HttpResponse;
  try {
    response = await client.send({
      method: "PATCH", path: `jobs/${job.id}/trace?debug_trace=${patch.debugTrace ? "true" : "false"}`, endpoint: "patch_trace",
      signal: patch.signal, body: patch.content,
      headers: {
        "JOB-TOKEN": job.token, "Content-Type": "text/plain",
        "Content-Range": `${patch.offset}-${patch.offset + size(patch.content) - 1}`,
      },
    });
  } catch (error) {
    if (error instanceof NetworkError) return { kind: "failed", status: 0, jobStatus: undefined, updateInterval: undefined };
    throw error;
  }
  const headers = statusHeaders(response);
  if (headers.jobStatus === "canceled" || headers.jobStatus === "failed" || response.status === 403) {
    return { ...headers, kind: "abort", status: response.status };
  }
  if (response.status === 202) return { ...headers, kind: "ok", sentOffset: patch.offset + size(patch.content) };
  if (response.status === 416) {
    const match = /^\d+-(\d+)$/.exec(response.headers.get("Range") ?? "");
    return { ...headers, kind: "range-mismatch", sentOffset: match ? Number(match[1]) : 0 };
  }
  // A 404 may come from any proxy on the way: the caller decides what it means (createPatchTraceResult).
  if (response.status === 404) return { ...headers, kind: "not-found", status: 404 };
  return { ...headers, kind: "failed", status: response.status };
}

function size(content: Uint8Array | Blob): number {
  return content instanceof Blob ? content.size : content.length;
}

/** GitLab's error text: `{"message": "…"}` or `{"message": {"field": ["…"]}}`. */
export function errorMessage(response: HttpResponse): string {
  const body = decodeJson(response) as { message?: unknown } | undefined;
  const message = body?.message;
  if (typeof message === "string") return message;
  if (message && typeof message === "object") {
    return Object.entries(message).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(", ") : String(v)}`).join("; ");
  }
  return `HTTP ${response.status}`;
}
