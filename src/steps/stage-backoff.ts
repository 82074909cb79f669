import { goDurationMs } from "../protocol/go-duration.ts";
import type { JobContext } from "./context.ts";

const MIN_MS = 5_000;
const MAX_MS = 5 * 60_000;
const FACTOR = 1.5;

/**
 * The wait before retry `n` (1 for the first) of a stage under FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY:
 * GitLab Runner's backoff.Backoff{Min: 5s, Max: 5m, Factor: 1.5, Jitter: true} (common/build.go
 * attemptExecuteStage): the first wait is 5 s, each later one jittered between 5 s and 5 s × 1.5ⁿ⁻¹.
 */
export function stageRetryDelayMs(n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_MS, MIN_MS * FACTOR ** (n - 1));
  return Math.round(Math.min(MAX_MS, MIN_MS + random() * (ceiling - MIN_MS)));
}

/** Waits before retry `n` of a stage, saying how long (`Retrying in 5s`), when the flag is on; a cancel ends the wait. */
export async function waitBeforeStageRetry(ctx: JobContext, n: number): Promise<void> {
  if (!ctx.flags.on("FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY")) return;
  const ms = stageRetryDelayMs(n);
  ctx.trace.info(`Retrying in ${goDurationMs(ms)}`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    ctx.signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
