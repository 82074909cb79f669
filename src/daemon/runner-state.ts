import type { RunnerConfig } from "../config/config-schema.ts";
import { goDuration } from "../protocol/go-duration.ts";
import { isUnhealthy, type JobRequestResult } from "../protocol/jobs-api.ts";
import { shortToken } from "../protocol/token.ts";
import type { Logger } from "./logger.ts";

/** Per-runner bookkeeping: running jobs, their concurrent ids, and health (docs/protocol.md §3.4). */
export class RunnerState {
  jobs = 0;
  #ids = new Set<number>();
  #unhealthyInARow = 0;
  #pausedUntil = 0;

  constructor(
    readonly runner: RunnerConfig,
    readonly unhealthyIntervalMs: number,
  ) {}

  healthy(log?: Logger): boolean {
    if (this.#pausedUntil === 0) return true;
    if (Date.now() < this.#pausedUntil) return false;
    this.#pausedUntil = 0;
    log?.warn("Runner is not healthy, but check for a new job will be forced!", { runner: shortToken(this.runner.token) });
    return true;
  }

  pausedForMs(): number {
    return Math.max(0, this.#pausedUntil - Date.now());
  }

  record(result: JobRequestResult, log: Logger): void {
    if (result.kind === "failed") log.warn("Checking for jobs... failed", { status: result.status, message: result.message });
    if (result.kind === "forbidden") log.error("Checking for jobs... forbidden", { runner: shortToken(this.runner.token) });
    if (result.kind === "client-error") log.error("Checking for jobs... client error", { message: result.message });
    if (result.kind === "unavailable") log.warn("Checking for jobs... GitLab instance currently unavailable");
    if (!isUnhealthy(result)) {
      this.#unhealthyInARow = 0;
      return;
    }
    this.#unhealthyInARow++;
    const limit = Math.max(1, this.runner.unhealthy_requests_limit);
    if (this.#unhealthyInARow >= limit) {
      this.#pausedUntil = Date.now() + this.unhealthyIntervalMs;
      this.#unhealthyInARow = 0;
      // GitLab Runner's defaults (common/consts.go): 3 requests and 60 minutes. Said in full, since an
      // outage of a few seconds pauses the runner that long.
      log.error(`Runner is unhealthy and will be disabled for ${goDuration(this.unhealthyIntervalMs / 1000)}`, {
        runner: shortToken(this.runner.token), unhealthy_requests: limit, unhealthy_requests_limit: limit,
        unhealthy_interval: goDuration(this.unhealthyIntervalMs / 1000),
        hint: "unhealthy_requests_limit and unhealthy_interval in [[runners]] of config.toml change this",
      });
    }
  }

  /** Reserves a job slot within `limit` (0: no limit); false when the runner is full. */
  reserve(): boolean {
    if (this.runner.limit > 0 && this.jobs >= this.runner.limit) return false;
    this.jobs++;
    return true;
  }

  unreserve(): void {
    this.jobs--;
  }

  /** The smallest free `CI_CONCURRENT_ID` for a job that holds a reserved slot. */
  takeConcurrentId(): number {
    let id = 0;
    while (this.#ids.has(id)) id++;
    this.#ids.add(id);
    return id;
  }

  /** Frees the job's id and its reserved slot. */
  releaseConcurrentId(id: number): void {
    this.#ids.delete(id);
    this.jobs--;
  }
}
