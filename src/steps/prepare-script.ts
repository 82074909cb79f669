import { prepareScript as script } from "../shell/stage-scripts.ts";
import { JobFailure } from "../protocol/job-failure.ts";
import type { JobContext } from "./context.ts";
import { checkEnvironment } from "./environment-limits.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/**
 * prepare_script: a first shell in the job's environment, which says where the job runs. Before it,
 * the job's variables are held against what a process environment can carry: a job whose every
 * command would fail with E2BIG fails here, saying which limit, instead of in a crashed shell.
 */
export async function prepareScript(ctx: JobContext): Promise<void> {
  const { problems, unexported } = checkEnvironment(ctx.variables, ctx.executor.directories.tmpDir);
  for (const name of unexported) ctx.trace.warning(`Variable "${name}" is not exported: it is not a valid shell variable name`);
  if (problems.length > 0) {
    for (const problem of problems) ctx.trace.error(`The job's variables do not fit in a process environment: ${problem}`);
    throw new JobFailure("the job's variables do not fit in a process environment", { failureReason: "script_failure", exitCode: 1 });
  }
  await runStage(ctx, "prepare_script", script(ctx.shell, scriptEnvironment(ctx, "running")), { predefined: true });
}
