import { cleanupScript } from "../shell/stage-scripts.ts";
import type { JobContext } from "./context.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/** cleanup_file_variables: removes the files that file-type variables were written to. */
export async function cleanupFileVariables(ctx: JobContext): Promise<void> {
  const script = cleanupScript(ctx.shell, scriptEnvironment(ctx, "running"));
  await runStage(ctx, "cleanup_file_variables", script, { predefined: true, signal: ctx.graceSignal });
}
