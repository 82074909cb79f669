import { setLongTimeout } from "./long-timeout.ts";
import { failureFromSignal, JobFailure, pickPriorityError, timeoutReason, toJobFailure } from "../protocol/job-failure.ts";

/**
 * What every combinator needs of a context. A step reads `signal` for cancellation; `graceSignal` is
 * what cleanup steps run under once the main signal is aborted; `primary` is set for cleanup steps
 * when the body they clean up after failed.
 */
export interface StepScope {
  readonly signal: AbortSignal;
  readonly graceSignal: AbortSignal;
  readonly primary?: JobFailure;
  /** Receives an error that is not reported because a primary failure wins over it. */
  readonly suppressed: (error: JobFailure) => void;
}

/** One stage of a job: an async function of its context. */
export type Step<C> = (ctx: C) => Promise<void>;

/** Runs the steps in order and stops at the first failure (fail fast). */
export function sequence<C extends StepScope>(...steps: readonly Step<C>[]): Step<C> {
  return async (ctx) => {
    for (const step of steps) {
      throwIfAborted(ctx.signal);
      await step(ctx);
    }
  };
}

/**
 * Runs `body`, then `cleanup` whatever happened: after success, failure or abort. The cleanup runs
 * under the grace signal and sees the body's failure as `primary`. A cleanup error never hides the
 * primary failure: it goes to `suppressed` and the primary is rethrown.
 */
export function ensure<C extends StepScope>(body: Step<C>, cleanup: Step<C>): Step<C> {
  return async (ctx) => {
    let primary: JobFailure | undefined;
    try {
      await body(ctx);
    } catch (error) {
      primary = toJobFailure(error);
    }
    const cleanupCtx: C = { ...ctx, signal: ctx.graceSignal, primary: primary ?? ctx.primary };
    try {
      await cleanup(cleanupCtx);
    } catch (error) {
      if (primary === undefined) throw error;
      ctx.suppressed(toJobFailure(error));
    }
    if (primary !== undefined) throw primary;
  };
}

/** What runs after a job's script whatever happened, each part's failure kept apart (see {@link settle}). */
export interface Finishing<C> {
  /** after_script and what is said before it: its failure counts as the script's. */
  readonly afterScript: Step<C>;
  readonly cache: Step<C>;
  readonly artifacts: Step<C>;
}

/**
 * Runs `body` (the job up to its script), then each finishing part whatever happened — under the
 * grace signal, seeing the body's failure as `primary`, a failing part not keeping the next from
 * running — and fails with the failure {@link pickPriorityError} chooses; the others are suppressed.
 */
export function settle<C extends StepScope>(body: Step<C>, finishing: Finishing<C>): Step<C> {
  return async (ctx) => {
    const script = await failureOf(body, ctx);
    const after: C = { ...ctx, signal: ctx.graceSignal, primary: script ?? ctx.primary };
    const afterScript = await failureOf(finishing.afterScript, after);
    // A failing after_script (AFTER_SCRIPT_IGNORE_ERRORS=false) is the job's failure from here on.
    const uploads: C = { ...after, primary: script ?? afterScript ?? ctx.primary };
    const failures = { script: script ?? afterScript, cache: await failureOf(finishing.cache, uploads), artifacts: await failureOf(finishing.artifacts, uploads) };
    const chosen = pickPriorityError(failures);
    for (const lost of [script, afterScript, failures.cache, failures.artifacts]) if (lost && lost !== chosen) ctx.suppressed(lost);
    if (chosen) throw chosen;
  };
}

async function failureOf<C>(step: Step<C>, ctx: C): Promise<JobFailure | undefined> {
  try {
    await step(ctx);
    return undefined;
  } catch (error) {
    return toJobFailure(error);
  }
}

/** Runs `step` only when `predicate` holds for the context at the time it would run. */
export function when<C extends StepScope>(predicate: (ctx: C) => boolean, step: Step<C>): Step<C> {
  return async (ctx) => {
    if (predicate(ctx)) await step(ctx);
  };
}

/**
 * Runs `step` up to `attempts(ctx)` times while it fails. Interruptions (cancel, timeout, abort)
 * are never retried. `wait` runs before retry n (1 for the first), then `beforeRetry`.
 */
export function retry<C extends StepScope>(
  step: Step<C>,
  options: { attempts: (ctx: C) => number; beforeRetry?: Step<C>; wait?: (ctx: C, n: number) => Promise<void> },
): Step<C> {
  return async (ctx) => {
    const attempts = Math.max(1, options.attempts(ctx));
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt > 1) {
          await options.wait?.(ctx, attempt - 1);
          throwIfAborted(ctx.signal);
          if (options.beforeRetry) await options.beforeRetry(ctx);
        }
        await step(ctx);
        return;
      } catch (error) {
        const failure = toJobFailure(error);
        if (attempt >= attempts || failure.interruption !== undefined || ctx.signal.aborted) throw failure;
      }
    }
  };
}

/**
 * Runs `step` with a signal that also aborts after `seconds(ctx)` seconds (no limit when the value
 * is not positive). A step that fails after its deadline fails with the timeout.
 */
export function withTimeout<C extends StepScope>(seconds: (ctx: C) => number, step: Step<C>): Step<C> {
  return async (ctx) => {
    const limit = seconds(ctx);
    if (!(limit > 0)) return step(ctx);
    const deadline = new AbortController();
    const cancelTimer = setLongTimeout(() => deadline.abort(timeoutReason(limit)), limit * 1000);
    try {
      await step({ ...ctx, signal: AbortSignal.any([ctx.signal, deadline.signal]) });
    } catch (error) {
      if (deadline.signal.aborted && !ctx.signal.aborted) throw toJobFailure(deadline.signal.reason);
      throw error;
    } finally {
      cancelTimer();
    }
  };
}

/** What `section` needs to write its markers. */
export interface SectionTrace {
  sectionStart(name: string, header: string): void;
  /** Ends a section; `failure` tells how the step in it ended, for the run record. */
  sectionEnd(name: string, failure?: JobFailure): void;
}

/** Wraps `step` in a trace section: the start marker and header before, the end marker after, always. */
export function section<C extends StepScope & { readonly trace: SectionTrace }>(
  name: string,
  header: string,
  step: Step<C>,
): Step<C> {
  return async (ctx) => {
    ctx.trace.sectionStart(name, header);
    let failure: JobFailure | undefined;
    try {
      await step(ctx);
    } catch (error) {
      failure = toJobFailure(error);
      throw failure;
    } finally {
      ctx.trace.sectionEnd(name, failure);
    }
  };
}

/** Throws the signal's reason, as a {@link JobFailure}, when it is aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw failureFromSignal(signal);
}
