import type { RunnerConfig } from "../config/config-schema.ts";
import { abortableSleep, HttpClient } from "../protocol/http-client.ts";
import { resetRunnerToken } from "../protocol/runners-api.ts";
import { shortToken } from "../protocol/token.ts";
import type { Logger } from "./logger.ts";

/** GitLab Runner's `TokenResetIntervalFactor` (common/consts.go): reset at three quarters of the token's life. */
const RESET_FACTOR = 0.75;
/** How long to wait before trying a failed reset again. */
const RETRY_MS = 5 * 60_000;

/** When `runner`'s token is due to be reset, or undefined when it does not expire (or rotation is off). */
export function resetTime(runner: RunnerConfig): number | undefined {
  if (runner.feature_flags.FF_DISABLE_AUTOMATIC_TOKEN_ROTATION === true) return undefined;
  const obtained = toTime(runner.token_obtained_at);
  const expires = toTime(runner.token_expires_at);
  // Go's zero time (0001-01-01) is how GitLab Runner writes "never expires".
  if (obtained === undefined || expires === undefined || expires <= obtained || new Date(expires).getUTCFullYear() < 1970) return undefined;
  return obtained + (expires - obtained) * RESET_FACTOR;
}

/**
 * Keeps the runners' authentication tokens alive, as GitLab Runner's `run` does (commands/multi.go
 * resetRunnerTokens): the runner whose token is due first has it reset through
 * `POST /runners/reset_authentication_token`, takes the new one at once (the next request already
 * uses it) and `save` writes config.toml again. Runs until `signal` aborts.
 */
export async function rotateTokens(options: {
  runners: RunnerConfig[];
  save: () => Promise<void>;
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
}): Promise<void> {
  const now = options.now ?? Date.now;
  const failedAt = new Map<RunnerConfig, number>();
  const due = (runner: RunnerConfig) => {
    const at = resetTime(runner);
    const failed = failedAt.get(runner);
    return at === undefined ? undefined : failed === undefined ? at : Math.max(at, failed + RETRY_MS);
  };
  while (!options.signal.aborted) {
    const next = options.runners
      .map((runner) => ({ runner, at: due(runner) }))
      .filter((e): e is { runner: RunnerConfig; at: number } => e.at !== undefined)
      .sort((a, b) => a.at - b.at)[0];
    if (!next) return;
    if (!(await waitUntil(next.at, now, options.signal))) return;
    const { runner } = next;
    const result = await resetRunnerToken(new HttpClient(runner.url), { token: runner.token });
    if (result.kind !== "ok") {
      failedAt.set(runner, now());
      options.log.warn("Resetting the runner's authentication token failed; trying again later", { runner: shortToken(runner.token), error: result.message });
      continue;
    }
    failedAt.delete(runner);
    const old = shortToken(runner.token);
    runner.token = result.token;
    runner.token_obtained_at = new Date(Math.floor(now() / 1000) * 1000);
    runner.token_expires_at = result.tokenExpiresAt ? new Date(result.tokenExpiresAt) : undefined;
    await options.save();
    options.log.info("Runner's authentication token reset", { runner: old, new_runner: shortToken(result.token), token_expires_at: result.tokenExpiresAt ?? "" });
  }
}

/** Waits until `at` (however far: the waits are chained); false when `signal` aborted first. */
async function waitUntil(at: number, now: () => number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted && now() < at) await abortableSleep(Math.min(at - now(), 2 ** 31 - 1), signal);
  return !signal.aborted;
}

function toTime(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string" && value.trim() !== "") {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
