import { setLongTimeout } from "./long-timeout.ts";
import { userScript } from "../shell/stage-scripts.ts";
import type { JobContext } from "./context.ts";
import { goDuration, parseGoDuration } from "../protocol/go-duration.ts";
import { JobFailure, timeoutReason, toJobFailure } from "../protocol/job-failure.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";
import { commandStyle } from "./step-script.ts";
import { variableValue } from "../job/variables.ts";

const DEFAULT_AFTER_SCRIPT_TIMEOUT_SECONDS = 300;

/** The after_script commands, if the job has any. */
export function afterScriptCommands(ctx: JobContext): readonly string[] {
  return ctx.job.steps.find((s) => s.name === "after_script")?.script.filter((c) => c.trim() !== "") ?? [];
}

/** after_script runs after success, a failure or a cancel; not after a timeout or an abort. */
export function shouldRunAfterScript(ctx: JobContext): boolean {
  const interruption = ctx.primary?.interruption;
  return afterScriptCommands(ctx).length > 0 && interruption !== "timeout" && interruption !== "aborted" &&
    !ctx.abortSignal.aborted;
}

/** The value of `CI_JOB_STATUS` once the script stages are over. */
export function finalJobStatus(primary: JobFailure | undefined): "success" | "failed" | "canceled" {
  if (primary === undefined) return "success";
  return primary.interruption === "canceled" ? "canceled" : "failed";
}

/**
 * after_script: a shell of its own with its own timeout (`RUNNER_AFTER_SCRIPT_TIMEOUT`, 5 min), which
 * sees `CI_JOB_STATUS`. Its failure only warns, unless `AFTER_SCRIPT_IGNORE_ERRORS` is false.
 */
export async function afterScript(ctx: JobContext): Promise<void> {
  const seconds = afterScriptTimeoutSeconds(ctx);
  const deadline = new AbortController();
  const cancelTimer = setLongTimeout(() => deadline.abort(timeoutReason(seconds)), seconds * 1000);
  const signal = AbortSignal.any([ctx.abortSignal, ctx.graceSignal, deadline.signal]);
  const commands = ctx.job.steps.find((s) => s.name === "after_script")?.script ?? [];
  const script = userScript(ctx.shell, scriptEnvironment(ctx, finalJobStatus(ctx.primary)), [{ prefix: "after_script_step", commands }], {
    afterScript: true, style: commandStyle(ctx),
  });
  try {
    await runStage(ctx, "after_script", script, { predefined: false, signal });
  } catch (error) {
    const failure = toJobFailure(error);
    if (variableValue(ctx.variables, "AFTER_SCRIPT_IGNORE_ERRORS") === "false") throw failure;
    ctx.trace.warning(`after_script failed, but job will continue unaffected: ${failure.message}`);
  } finally {
    cancelTimer();
  }
}

function afterScriptTimeoutSeconds(ctx: JobContext): number {
  const raw = variableValue(ctx.variables, "RUNNER_AFTER_SCRIPT_TIMEOUT");
  const parsed = raw === undefined ? undefined : parseGoDuration(raw);
  if (raw !== undefined && parsed === undefined) {
    ctx.trace.warning(`RUNNER_AFTER_SCRIPT_TIMEOUT: cannot parse "${raw}", using ${goDuration(DEFAULT_AFTER_SCRIPT_TIMEOUT_SECONDS)}`);
  }
  return parsed ?? DEFAULT_AFTER_SCRIPT_TIMEOUT_SECONDS;
}

