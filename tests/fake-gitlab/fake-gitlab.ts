import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FEATURE_KEYS } from "../../src/protocol/runner-info.ts";
import type { JobResponse, JobVariable } from "../../src/protocol/types.ts";
import { seededRandom } from "../helpers/seeded-random.ts";

/** A job as the fake coordinator keeps it. */
export interface FakeJob {
  readonly payload: JobResponse;
  /** `pending` until handed out, then `running`, `canceling`, `canceled`, `success` or `failed`. */
  status: string;
  /** The stored trace (empty when the fake keeps no trace bytes). */
  readonly trace: Buffer;
  traceChunks: Buffer[];
  traceLength: number;
  traceCrc: number;
  readonly updates: Record<string, unknown>[];
  patches: number;
  /** A PATCH said `debug_trace=true`: GitLab marks the job's trace as a debug trace (append_build_trace_service.rb). */
  debugTrace?: boolean;
  failureReason?: string;
  exitCode?: number;
  pickedUpAt?: number;
  firstPatchAt?: number;
  readonly artifacts: { type: string; format: string; expireIn: string | null; filename: string; data: Buffer }[];
  /** What goes out on the wire instead of `payload` (a malformed or unusual payload). */
  wire?: unknown;
}

/**
 * The faults the fake can answer with, each as GitLab (or what stands in front of it) really sends it:
 * - `5xx`: a 500/502/503 from Rails or a load balancer;
 * - `drop`: the connection closes after the request was applied (the answer is lost);
 * - `416`: a spurious range mismatch on PATCH (append_build_trace_service.rb answers 416 with `Range`);
 * - `429`: Rack::Attack's throttle, `Retry-After` in seconds (lib/gitlab/rack_attack; Rails sends
 *   `Retry-After: 60` while it migrates, lib/api/ci/helpers/runner.rb `check_if_backoff_required!`);
 * - `409`: a conflict on PUT (update_build_state_service.rb: two-phase commit, job already assigned);
 * - `404`: a proxy's HTML 404 on PATCH, nothing appended (any reverse proxy in front of Workhorse);
 * - `307`: on an artifact upload, GitLab moved (lib/api/ci/runner.rb behind a redirecting proxy;
 *   GitLab Runner's artifacts uploader re-posts to the Location's host): a Location back to the fake
 *   itself, so that answering it every time makes a loop;
 * - `400`, `422`: Grape's validation answers (lib/api/ci/runner.rb `put '/:id'`, `patch '/:id/trace'`).
 * None of them but `drop` applies the request.
 */
export type FaultKind = "5xx" | "drop" | "416" | "429" | "409" | "404" | "400" | "422" | "307";

export interface FaultOptions {
  /** Share of requests (0–1) that get a fault. */
  readonly rate: number;
  /** Which faults (default: 5xx, drop, 416). */
  readonly kinds?: readonly FaultKind[];
  /** Which endpoints: `request`, `update`, `patch` (default: update and patch). */
  readonly endpoints?: readonly string[];
}

const HEX32 = /^[0-9a-f]{32}$/;

/**
 * A GitLab coordinator that follows docs/protocol.md and writes down every deviation it sees in
 * `deviations` (tests assert there are none): wrong tokens, a bad Content-Range, a missing header, a
 * feature key missing from `info`, a checksum or byte size that does not match the stored trace.
 * Faults can be injected: 5xx answers, dropped connections, forced 416s.
 */
export class FakeGitLab {
  readonly deviations: string[] = [];
  readonly jobs = new Map<number, FakeJob>();
  readonly requests: { endpoint: string; status: number }[] = [];
  faults: FaultOptions = { rate: 0 };
  /** How long `jobs/request` holds when there is no job. */
  longPollMs = 0;
  /** `X-GitLab-Trace-Update-Interval` sent on trace and update answers. */
  updateInterval = 3;
  /** Keep the trace bytes (off for benchmarks: only the length and CRC32 are kept). */
  keepTraces = true;
  /** Serve artifact downloads through a redirect to "object storage" (which must get no job token). */
  redirectDownloads = false;
  /** How many times "object storage" sends a download on to itself before it serves it (Infinity: a loop). */
  storageRedirects = 0;
  /**
   * Every Nth `jobs/request` while jobs wait is answered 409, as GitLab answers a request that lost a
   * race for a job to another runner (lib/api/ci/runner.rb: `conflict!` when RegisterJobService's
   * result is not valid). 0: never.
   */
  conflictEvery = 0;
  /** How many 409s `conflictEvery` has answered. */
  conflicts = 0;
  #requestCount = 0;
  /** When set, the final update is answered 202 this many times before 200. */
  acceptFinalAfter = 0;
  /** The runner's authentication token now; a reset replaces it and the old one is refused. */
  runnerToken: string;
  /**
   * How long a runner token lives, when it expires (GitLab's "runner authentication token expiration"
   * setting): verify and reset answer with `token_expires_at`, and an expired token gets 403.
   */
  tokenLifetimeMs: number | undefined;
  #tokenIssuedAt = Date.now();
  /** The `system_id`s runners sent with jobs/request (a runner manager each, in GitLab). */
  readonly systemIds = new Set<string>();
  /** Every token reset: the old and the new token. */
  readonly resets: { from: string; to: string }[] = [];
  url = "";
  #server: Server | undefined;
  #queue: number[] = [];
  #waiters: (() => void)[] = [];
  #nextId = 1000;
  #lastUpdate = 1;
  #random: () => number;
  #finals = new Map<number, (job: FakeJob) => void>();

  constructor(options: { runnerToken?: string; seed?: number; tokenLifetimeMs?: number } = {}) {
    this.runnerToken = options.runnerToken ?? "glrt-t1_fakeRunnerToken01";
    this.tokenLifetimeMs = options.tokenLifetimeMs;
    this.#random = seededRandom(options.seed ?? 42);
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const wake of this.#waiters.splice(0)) wake();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  /** Queues a job running `script`; returns its id. */
  enqueue(script: readonly string[], overrides: Partial<JobResponse> & { afterScript?: string[]; variables?: JobVariable[] } = {}): number {
    const id = this.#nextId++;
    const token = `glcbt-64_jobToken${id}`;
    const { afterScript, variables: _variables, ...rest } = overrides;
    const payload: JobResponse = {
      id, token, allow_git_fetch: true,
      job_info: { id, name: `job-${id}`, stage: "test", project_id: 42, project_name: "widget", project_full_path: "acme/widget" },
      git_info: {
        repo_url: `${this.url}/acme/widget.git`, ref: "main", sha: "0".repeat(40), before_sha: "0".repeat(40),
        ref_type: "branch", refspecs: [], depth: 0,
      },
      runner_info: { timeout: 3600 },
      variables: [
        { key: "CI_JOB_ID", value: String(id), public: true, masked: false },
        { key: "CI_JOB_NAME", value: `job-${id}`, public: true, masked: false },
        { key: "CI_COMMIT_REF_NAME", value: "main", public: true, masked: false },
        { key: "CI_PROJECT_PATH", value: "acme/widget", public: true, masked: false },
        { key: "CI_JOB_TOKEN", value: token, public: false, masked: true },
        { key: "GIT_STRATEGY", value: "none", public: true, masked: false },
        ...(overrides.variables ?? []),
      ],
      steps: [
        { name: "script", script: [...script], timeout: 3600, when: "on_success", allow_failure: false },
        ...(afterScript ? [{ name: "after_script" as const, script: afterScript, timeout: 3600, when: "always" as const, allow_failure: true }] : []),
      ],
      features: { trace_sections: true, token_mask_prefixes: ["glpat-"], failure_reasons: ["script_failure", "job_execution_timeout", "runner_system_failure", "unknown_failure"] },
      ...rest,
    };
    this.jobs.set(id, {
      payload, status: "pending", traceChunks: [], traceLength: 0, traceCrc: 0, updates: [], patches: 0, artifacts: [],
      get trace() {
        if (this.traceChunks.length > 1) this.traceChunks = [Buffer.concat(this.traceChunks)];
        return this.traceChunks[0] ?? Buffer.alloc(0);
      },
    });
    this.#queue.push(id);
    this.#lastUpdate++;
    for (const wake of this.#waiters.splice(0)) wake();
    return id;
  }

  /**
   * Queues a job whose payload goes out as `mutate` leaves it: GitLab's API sends what its entities
   * build (lib/api/entities/ci/job_request/response.rb), and a runner must survive any of it. The
   * job's id and token stay, so that its updates are recorded.
   */
  enqueueWire(mutate: (payload: Record<string, unknown>) => unknown, script: readonly string[] = ["echo ran"]): number {
    const id = this.enqueue(script);
    const job = this.jobs.get(id)!;
    job.wire = mutate(structuredClone(job.payload) as unknown as Record<string, unknown>);
    return id;
  }

  /** Cancels a job: gracefully (`canceling`) or at once (`canceled`). */
  cancel(id: number, graceful: boolean): void {
    this.jobs.get(id)!.status = graceful ? "canceling" : "canceled";
  }

  /** Resolves when the job's final state has been reported. */
  finished(id: number): Promise<FakeJob> {
    const job = this.jobs.get(id)!;
    if (job.status === "success" || job.status === "failed") return Promise.resolve(job);
    return new Promise((resolve) => this.#finals.set(id, resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? "").split("?")[0]!;
    if (path.startsWith("/api/")) this.#checkCommonHeaders(req, path);
    let match: RegExpExecArray | null;
    if (req.method === "POST" && path === "/api/v4/jobs/request") return this.#request(req, res, body);
    if (req.method === "PUT" && (match = /^\/api\/v4\/jobs\/(\d+)$/.exec(path))) return this.#update(req, res, Number(match[1]), body);
    if (req.method === "PATCH" && (match = /^\/api\/v4\/jobs\/(\d+)\/trace$/.exec(path))) return this.#patch(req, res, Number(match[1]), body);
    if (req.method === "POST" && (match = /^\/api\/v4\/jobs\/(\d+)\/artifacts$/.exec(path))) return this.#upload(req, res, Number(match[1]), body);
    if (req.method === "GET" && (match = /^\/api\/v4\/jobs\/(\d+)\/artifacts$/.exec(path))) return this.#download(req, res, Number(match[1]));
    if (req.method === "GET" && (match = /^\/objects\/(\d+)$/.exec(path))) return this.#object(req, res, Number(match[1]));
    if (req.method === "POST" && path === "/api/v4/runners/verify") return this.#verify(res, body);
    if (req.method === "POST" && path === "/api/v4/runners") return this.#register(res, body);
    if (req.method === "POST" && path === "/api/v4/runners/reset_authentication_token") return this.#resetToken(res, body);
    if (req.method === "DELETE" && path === "/api/v4/runners") return this.#unregister(res, body);
    if (req.method === "DELETE" && path === "/api/v4/runners/managers") return this.#unregisterManager(res, body);
    this.deviations.push(`unexpected request ${req.method} ${path}`);
    this.#send(res, "other", 404, { message: "404 Not Found" });
  }

  #checkCommonHeaders(req: IncomingMessage, path: string): void {
    if (!HEX32.test(String(req.headers["x-request-id"] ?? ""))) this.deviations.push(`${path}: X-Request-Id is not 32 hex digits`);
    if (!String(req.headers["user-agent"] ?? "").startsWith("gitlab-runner ")) this.deviations.push(`${path}: User-Agent does not name gitlab-runner`);
  }

  /** `Retry-After` of a 429 fault, in seconds (GitLab sends 60 while migrating). */
  retryAfterSeconds = 1;

  /** Answers a fault of the ones that do not apply the request; false for the others. */
  #answerFault(res: ServerResponse, endpoint: string, fault: FaultKind | undefined, headers: Record<string, string>): boolean {
    switch (fault) {
      case "5xx":
        this.#send(res, endpoint, [500, 502, 503][Math.floor(this.#random() * 3)]!, "error", headers);
        return true;
      case "429":
        this.#send(res, endpoint, 429, { message: "429 Too Many Requests" }, { ...headers, "Retry-After": String(this.retryAfterSeconds) });
        return true;
      case "409":
        this.#send(res, endpoint, 409, { message: "409 Conflict" }, headers);
        return true;
      case "400":
        this.#send(res, endpoint, 400, { message: "400 Bad Request" }, headers);
        return true;
      case "422":
        this.#send(res, endpoint, 422, { message: "422 Unprocessable Entity" }, headers);
        return true;
      case "307":
        this.#send(res, endpoint, 307, "", { ...headers, Location: `${this.url}/api/v4/moved-here` });
        return true;
      case "404":
        this.requests.push({ endpoint, status: 404 });
        res.writeHead(404, { "Content-Type": "text/html" });
        res.end("<html><body><h1>404 Not Found</h1>nginx</body></html>");
        return true;
      default:
        return false;
    }
  }

  readonly #scripted = new Map<string, (FaultKind | undefined)[]>();

  /** The next requests to `endpoint` get these answers, in order (`undefined`: a normal one). */
  script(endpoint: "request" | "update" | "patch" | "artifacts" | "download", kinds: readonly (FaultKind | undefined)[]): void {
    this.#scripted.set(endpoint, [...(this.#scripted.get(endpoint) ?? []), ...kinds]);
  }

  #fault(endpoint: string): FaultKind | undefined {
    const queued = this.#scripted.get(endpoint);
    if (queued && queued.length > 0) return queued.shift();
    const f = this.faults;
    if (f.rate <= 0 || !(f.endpoints ?? ["update", "patch"]).includes(endpoint)) return undefined;
    if (this.#random() >= f.rate) return undefined;
    const kinds = f.kinds ?? ["5xx", "drop", "416"];
    return kinds[Math.floor(this.#random() * kinds.length)];
  }

  /** Whether `token` is the runner's and has not expired. */
  #validRunnerToken(token: unknown): boolean {
    if (token !== this.runnerToken) return false;
    return this.tokenLifetimeMs === undefined || Date.now() < this.#tokenIssuedAt + this.tokenLifetimeMs;
  }

  #expiresAt(): string | null {
    return this.tokenLifetimeMs === undefined ? null : new Date(this.#tokenIssuedAt + this.tokenLifetimeMs).toISOString();
  }

  /**
   * `POST /runners/reset_authentication_token` (lib/api/ci/runner.rb): the current token is replaced,
   * 201 with the new one and its expiry (Entities::Ci::ResetTokenResult); a wrong token is 403.
   */
  #resetToken(res: ServerResponse, raw: Buffer): void {
    const body = json(raw);
    if (!this.#validRunnerToken(body?.token)) return this.#send(res, "reset_token", 403, { message: "403 Forbidden" });
    const next = `glrt-t1_rotated${this.resets.length + 1}Token${Math.floor(this.#random() * 1e6)}`;
    this.resets.push({ from: this.runnerToken, to: next });
    this.runnerToken = next;
    this.#tokenIssuedAt = Date.now();
    this.#send(res, "reset_token", 201, { token: next, token_expires_at: this.#expiresAt() });
  }

  async #request(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const body = json(raw);
    if (!this.#validRunnerToken(body?.token)) return this.#send(res, "request", 403, { message: "403 Forbidden" });
    if (typeof body?.system_id === "string") this.systemIds.add(body.system_id);
    if (req.headers["runner-token"] !== this.runnerToken || body?.token !== this.runnerToken) {
      if (body?.token !== this.runnerToken) return this.#send(res, "request", 403, { message: "403 Forbidden" });
      this.deviations.push("jobs/request: RUNNER-TOKEN header differs from the body token");
    }
    const features = body?.info?.features ?? {};
    const missing = FEATURE_KEYS.filter((k) => typeof features[k] !== "boolean");
    if (missing.length > 0) this.deviations.push(`jobs/request: info.features misses ${missing.join(", ")}`);
    if (body?.info?.config?.gpus !== "") this.deviations.push("jobs/request: info.config.gpus is not \"\"");
    if (!String(req.headers["accept"] ?? "").includes("application/json")) this.deviations.push("jobs/request: no Accept: application/json");
    const fault = this.#fault("request");
    if ((fault === "5xx" || fault === "429") && this.#answerFault(res, "request", fault, {})) return;
    if (this.conflictEvery > 0 && this.#queue.length > 0 && ++this.#requestCount % this.conflictEvery === 0) {
      this.conflicts++;
      return this.#send(res, "request", 409, { message: "409 Conflict" });
    }
    let id = this.#queue.shift();
    if (id === undefined && this.longPollMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.longPollMs);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
        req.on("close", () => (clearTimeout(timer), resolve()));
      });
      id = this.#queue.shift();
    }
    if (id === undefined) return this.#send(res, "request", 204, undefined, { "X-GitLab-Last-Update": String(this.#lastUpdate) });
    const job = this.jobs.get(id)!;
    job.status = "running";
    job.pickedUpAt = performance.now();
    this.#send(res, "request", 201, job.wire ?? job.payload, { "X-GitLab-Last-Update": String(this.#lastUpdate) });
  }

  #update(req: IncomingMessage, res: ServerResponse, id: number, raw: Buffer): void {
    const job = this.jobs.get(id);
    const body = json(raw);
    if (!job) return this.#send(res, "update", 404, { message: "404 Not Found" });
    if (req.headers["job-token"] !== job.payload.token || body?.token !== job.payload.token) {
      this.deviations.push(`PUT jobs/${id}: JOB-TOKEN or body token is not the job's`);
      return this.#send(res, "update", 403, { message: "403 Forbidden" });
    }
    if (typeof body?.info !== "object") this.deviations.push(`PUT jobs/${id}: no info`);
    if (typeof body?.output !== "object") this.deviations.push(`PUT jobs/${id}: no output object`);
    const fault = this.#fault("update");
    if (fault !== "404" && fault !== "416" && this.#answerFault(res, "update", fault, {})) return;
    job.updates.push(body);
    const headers = { "Job-Status": job.status, "X-GitLab-Trace-Update-Interval": String(this.updateInterval) };
    if (job.status === "canceled") return this.#send(res, "update", 403, { message: "403 Forbidden - Job is not running" }, headers);
    const state = body.state;
    if (state === "success" || state === "failed") {
      if (this.acceptFinalAfter > 0) {
        this.acceptFinalAfter--;
        return this.#send(res, "update", 202, "202", headers);
      }
      this.#checkOutput(id, job, body);
      job.status = state;
      job.failureReason = body.failure_reason;
      job.exitCode = body.exit_code;
      this.#finals.get(id)?.(job);
    } else if (state !== undefined && state !== "running") {
      this.deviations.push(`PUT jobs/${id}: unknown state ${state}`);
    }
    if (fault === "drop") return void res.socket?.destroy();
    this.#send(res, "update", 200, "200", { ...headers, "Job-Status": job.status });
  }

  #checkOutput(id: number, job: FakeJob, body: Record<string, any>): void {
    const checksum = `crc32:${(job.traceCrc >>> 0).toString(16).padStart(8, "0")}`;
    if (body.output?.checksum !== checksum) this.deviations.push(`PUT jobs/${id}: checksum ${body.output?.checksum} but the stored trace has ${checksum}`);
    if (body.checksum !== body.output?.checksum) this.deviations.push(`PUT jobs/${id}: top-level checksum differs from output.checksum`);
    if (body.output?.bytesize !== job.traceLength) this.deviations.push(`PUT jobs/${id}: bytesize ${body.output?.bytesize} but ${job.traceLength} bytes are stored`);
  }

  #patch(req: IncomingMessage, res: ServerResponse, id: number, content: Buffer): void {
    const job = this.jobs.get(id);
    if (!job) return this.#send(res, "patch", 404, { message: "404 Not Found" });
    if (req.headers["job-token"] !== job.payload.token) {
      this.deviations.push(`PATCH jobs/${id}/trace: JOB-TOKEN is not the job's`);
      return this.#send(res, "patch", 403, { message: "403 Forbidden" });
    }
    if (!/^\/api\/v4\/jobs\/\d+\/trace\?debug_trace=(true|false)$/.test(req.url ?? "")) this.deviations.push(`PATCH ${req.url}: no debug_trace query`);
    if (req.headers["content-type"] !== "text/plain") this.deviations.push(`PATCH jobs/${id}/trace: Content-Type is ${req.headers["content-type"]}`);
    const range = /^(\d+)-(\d+)$/.exec(String(req.headers["content-range"] ?? ""));
    if (!range) {
      this.deviations.push(`PATCH jobs/${id}/trace: bad Content-Range "${req.headers["content-range"]}"`);
      return this.#send(res, "patch", 400, { message: "400 Bad Request" });
    }
    const start = Number(range[1]);
    if (Number(range[2]) !== start + content.length - 1) this.deviations.push(`PATCH jobs/${id}/trace: Content-Range ${range[0]} does not end at start + length - 1 (${content.length} bytes)`);
    if (content.length === 0) this.deviations.push(`PATCH jobs/${id}/trace: empty patch`);
    if (content.length > 1024 * 1024) this.deviations.push(`PATCH jobs/${id}/trace: patch over 1 MiB`);
    job.patches++;
    job.firstPatchAt ??= performance.now();
    const headers = { "Job-Status": job.status, "X-GitLab-Trace-Update-Interval": String(this.updateInterval) };
    const fault = this.#fault("patch");
    if (fault !== "409" && this.#answerFault(res, "patch", fault, headers)) return;
    if (fault === "416" || start !== job.traceLength) {
      return this.#send(res, "patch", 416, "416", { ...headers, Range: `0-${job.traceLength}` });
    }
    if (job.status === "canceled") return this.#send(res, "patch", 403, { message: "403 Forbidden" }, headers);
    if (this.keepTraces) job.traceChunks.push(content);
    job.traceLength += content.length;
    job.traceCrc = Bun.hash.crc32(content, job.traceCrc);
    if ((req.url ?? "").endsWith("debug_trace=true")) job.debugTrace = true;
    if (fault === "drop") return void res.socket?.destroy();
    this.#send(res, "patch", 202, "202", { ...headers, Range: `0-${job.traceLength}` });
  }

  async #upload(req: IncomingMessage, res: ServerResponse, id: number, raw: Buffer): Promise<void> {
    const job = this.jobs.get(id);
    if (!job || req.headers["job-token"] !== job.payload.token) {
      this.deviations.push(`POST jobs/${id}/artifacts: JOB-TOKEN is not the job's`);
      return this.#send(res, "artifacts", 403, { message: "403 Forbidden" });
    }
    if (this.#answerFault(res, "artifacts", this.#fault("artifacts"), {})) return;
    const contentType = String(req.headers["content-type"] ?? "");
    if (!contentType.startsWith("multipart/form-data")) this.deviations.push(`POST jobs/${id}/artifacts: not multipart/form-data`);
    const form = await new Response(raw, { headers: { "Content-Type": contentType } }).formData();
    const fields = [...form.keys()];
    if (fields.length !== 1 || fields[0] !== "file") this.deviations.push(`POST jobs/${id}/artifacts: fields ${fields.join(", ")} (only "file" is allowed)`);
    const file = form.get("file") as File;
    const query = new URL(req.url ?? "", "http://x").searchParams;
    job.artifacts.push({
      type: query.get("artifact_type") ?? "archive", format: query.get("artifact_format") ?? "zip",
      expireIn: query.get("expire_in"), filename: file.name, data: Buffer.from(await file.arrayBuffer()),
    });
    this.#send(res, "artifacts", 201, "201");
  }

  #download(req: IncomingMessage, res: ServerResponse, id: number): void {
    const job = this.jobs.get(id);
    const archive = job?.artifacts.find((a) => a.type === "archive");
    if (!job || !archive) return this.#send(res, "download", 404, { message: "404 Not Found" });
    if (req.headers["job-token"] !== job.payload.token) return this.#send(res, "download", 403, { message: "403 Forbidden" });
    if (this.#answerFault(res, "download", this.#fault("download"), {})) return;
    if (this.redirectDownloads && (req.url ?? "").includes("direct_download=true")) {
      return this.#send(res, "download", 302, undefined, { Location: `${this.url}/objects/${id}` });
    }
    this.#sendBytes(res, archive.data);
  }

  #object(req: IncomingMessage, res: ServerResponse, id: number): void {
    if (req.headers["job-token"] !== undefined) this.deviations.push("object storage was sent the job token");
    if (this.storageRedirects > 0) {
      this.storageRedirects--;
      return this.#send(res, "object", 302, undefined, { Location: `${this.url}/objects/${id}` });
    }
    const archive = this.jobs.get(id)?.artifacts.find((a) => a.type === "archive");
    if (!archive) return this.#send(res, "object", 404, "not found");
    this.#sendBytes(res, archive.data);
  }

  #sendBytes(res: ServerResponse, data: Buffer): void {
    this.requests.push({ endpoint: "download", status: 200 });
    res.writeHead(200, { "Content-Type": "application/zip", "Content-Length": String(data.length) });
    res.end(data);
  }

  #verify(res: ServerResponse, raw: Buffer): void {
    const body = json(raw);
    if (!this.#validRunnerToken(body?.token)) return this.#send(res, "verify", 403, { message: "403 Forbidden" });
    if (typeof body?.info?.features !== "object") this.deviations.push("runners/verify: no full info");
    this.#send(res, "verify", 200, { id: 7, token: this.runnerToken, token_expires_at: this.#expiresAt() });
  }

  #register(res: ServerResponse, raw: Buffer): void {
    const body = json(raw);
    if (body?.token !== "GR1348941legacyRegistration") return this.#send(res, "register", 403, { message: "403 Forbidden" });
    if (typeof body.run_untagged !== "boolean" || typeof body.locked !== "boolean" || typeof body.paused !== "boolean") {
      this.deviations.push("runners: run_untagged, locked and paused must always be sent");
    }
    // Ci::Runner's tag_constraints validation: no tags and no untagged jobs is refused with 400.
    if (!body.tag_list && body.run_untagged !== true) {
      return this.#send(res, "register", 400, { message: { tags_list: ["can not be empty when runner is not allowed to pick untagged jobs"] } });
    }
    this.#send(res, "register", 201, { id: 8, token: "glrt-t1_fromLegacyRegistration", token_expires_at: null });
  }

  #unregister(res: ServerResponse, raw: Buffer): void {
    const body = json(raw);
    this.#send(res, "unregister", body?.token === this.runnerToken ? 204 : 403, undefined);
  }

  #unregisterManager(res: ServerResponse, raw: Buffer): void {
    const body = json(raw);
    if (!/^[sr]_[0-9A-Za-z]{12}$/.test(String(body?.system_id ?? ""))) this.deviations.push("runners/managers: bad system_id");
    this.#send(res, "unregister", body?.token === this.runnerToken ? 204 : 403, undefined);
  }

  #send(res: ServerResponse, endpoint: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.requests.push({ endpoint, status });
    const isJson = typeof body === "object" && body !== null;
    res.writeHead(status, { ...(isJson ? { "Content-Type": "application/json" } : {}), ...headers });
    res.end(body === undefined ? undefined : isJson ? JSON.stringify(body) : String(body));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (c: Buffer) => {
      chunks.push(c);
      length += c.length;
    });
    // One copy into a buffer of the known size (a trace PATCH of 1 GiB in many chunks was the fake's
    // own bottleneck in bench/daemon.ts, on the cores the runner needs).
    const whole = () => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    req.on("end", () => resolve(whole()));
    req.on("error", () => resolve(whole()));
  });
}

function json(raw: Buffer): Record<string, any> | undefined {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
}

