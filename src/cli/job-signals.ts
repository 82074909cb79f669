import type { JobSignals } from "../steps/run-job.ts";
import { abortReason, cancelReason } from "../protocol/job-failure.ts";

/**
 * Ctrl-C as a person expects from a CI tool: the first cancels the running scripts (after_script
 * still runs), the second aborts everything but cleanup, the third stops cleanup too.
 */
export function interruptibleSignals(onInterrupt: (count: number) => void): JobSignals & { dispose(): void } {
  const cancel = new AbortController();
  const abort = new AbortController();
  const grace = new AbortController();
  let count = 0;
  const handler = () => {
    count++;
    onInterrupt(count);
    if (count === 1) cancel.abort(cancelReason());
    else if (count === 2) abort.abort(abortReason());
    else grace.abort(abortReason());
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    cancel: cancel.signal,
    abort: abort.signal,
    grace: grace.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
