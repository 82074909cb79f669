import type { BuildStage } from "../executors/executor.ts";
import type { ScriptEnvironment } from "../shell/prelude.ts";
import { throwIfAborted } from "./compose.ts";
import type { JobContext } from "./context.ts";
import { failureFromSignal, JobFailure, scriptFailure } from "../protocol/job-failure.ts";
import { COMMAND_FILE_VARIABLE, commandFilePath, readCommandFile } from "./job-commands.ts";
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
  if (ctx.commands) await readCommandFile(ctx.executor.files, tmpDir, ctx.trace).catch((error: unknown) => {
    ctx.trace.stage.warning(`The command file could not be read: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (exitCode !== 0) throw scriptFailure(exitCode, ctx.executor.describeExit(exitCode));
  const result = ctx.commands?.result;
  if (result?.value === "Failed") throw new JobFailure(`task.complete result=Failed${result.message ? `: ${result.message}` : ""}`, { failureReason: "script_failure", exitCode: 1 });
}

/** The job's directories and variables as a stage script sees them, with `CI_JOB_STATUS` set. */
export function scriptEnvironment(ctx: JobContext, jobStatus: string): ScriptEnvironment {
  const status: ResolvedVariable = { key: "CI_JOB_STATUS", value: jobStatus, file: false, masked: false };
  return {
    projectDir: ctx.executor.directories.projectDir,
    tmpDir: ctx.executor.directories.tmpDir,
    variables: [...ctx.variables.filter((v) => v.key !== "CI_JOB_STATUS"), status, ...commandVariables(ctx)],
    ...(ctx.commands?.paths.length ? { pathPrepend: ctx.commands.paths } : {}),
    ...(ctx.debugTrace ? { xtrace: true } : {}),
  };
}

/** The command file's name, and what the job's commands set, for the stage's script. */
function commandVariables(ctx: JobContext): ResolvedVariable[] {
  if (!ctx.commands) return [];
  const plain = (key: string, value: string): ResolvedVariable => ({ key, value, file: false, masked: false });
  return [
    plain(COMMAND_FILE_VARIABLE, commandFilePath(ctx.executor.directories.tmpDir)),
    ...ctx.commands.environment().map((v) => plain(v.key, v.value)),
  ];
}
