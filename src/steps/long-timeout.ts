/** The longest delay a JavaScript timer takes (2^31 − 1 ms, 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms`, however long that is: GitLab allows job timeouts of a month, beyond what
 * one `setTimeout` can wait, so the wait is chained. Returns the function that cancels it.
 */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const due = Date.now() + ms;
  const arm = () => {
    const left = due - Date.now();
    timer = setTimeout(left > MAX_TIMER_MS ? arm : fn, Math.max(0, Math.min(left, MAX_TIMER_MS)));
  };
  arm();
  return () => clearTimeout(timer);
}
