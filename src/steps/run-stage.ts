import type { BuildStage } from "../executors/executor.ts";
import type { ScriptEnvironment } from "../shell/prelude.ts";
import { throwIfAborted } from "./compose.ts";
import type { JobContext } from "./context.ts";
import { failureFromSignal, scriptFailure } from "../protocol/job-failure.ts";
import { fileVariablePath, type ResolvedVariable } from "../job/variables.ts";

/** Runs one generated stage script on the job's executor; a non-zero exit is a script failure. */
export async function runStage(
  ctx: JobContext,
  stage: BuildStage,
  script: string,
  options: { predefined: boolean; signal?: AbortSignal },
): Promise<void> {
  const signal = options.signal ?? ctx.signal;
  throwIfAborted(signal);
  const tmpDir = ctx.executor.directories.tmpDir;
  const environment = ctx.variables.map((v) => `${v.key}=${v.file ? fileVariablePath(tmpDir, v.key) : v.value}`);
  const { exitCode } = await ctx.executor.run({ script, stage, predefined: options.predefined, signal, environment }, ctx.trace);
  if (signal.aborted) throw failureFromSignal(signal);
  if (exitCode !== 0) throw scriptFailure(exitCode, ctx.executor.describeExit(exitCode));
}

/** The job's directories and variables as a stage script sees them, with `CI_JOB_STATUS` set. */
export function scriptEnvironment(ctx: JobContext, jobStatus: string): ScriptEnvironment {
  const status: ResolvedVariable = { key: "CI_JOB_STATUS", value: jobStatus, file: false, masked: false };
  return {
    projectDir: ctx.executor.directories.projectDir,
    tmpDir: ctx.executor.directories.tmpDir,
    variables: [...ctx.variables.filter((v) => v.key !== "CI_JOB_STATUS"), status],
    ...(ctx.debugTrace ? { xtrace: true } : {}),
  };
}
