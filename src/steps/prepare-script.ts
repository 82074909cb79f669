import { prepareScript as script } from "../shell/stage-scripts.ts";
import type { JobContext } from "./context.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/** prepare_script: a first shell in the job's environment, which says where the job runs. */
export async function prepareScript(ctx: JobContext): Promise<void> {
  await runStage(ctx, "prepare_script", script(ctx.shell, scriptEnvironment(ctx, "running")), { predefined: true });
}
