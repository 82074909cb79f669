import { userScript } from "../shell/stage-scripts.ts";
import { section } from "./compose.ts";
import type { JobContext } from "./context.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/**
 * step_script (and any other non-after_script step): before_script and script in one shell, each
 * step its own stage, stopping at the first failure. The runner's pre/post build scripts wrap them.
 */
export async function stepScript(ctx: JobContext): Promise<void> {
  for (const step of ctx.job.steps) {
    if (step.name === "after_script") continue;
    const stage = `step_${step.name}` as const;
    const commands = [
      ...(ctx.settings.preBuildScript ?? []),
      ...step.script,
      ...(ctx.settings.postBuildScript ?? []),
    ];
    const script = userScript(ctx.shell, scriptEnvironment(ctx, "running"), commands);
    await section(stage, `Executing "${stage}" stage of the job script`, (c: JobContext) =>
      runStage(c, stage, script, { predefined: false }),
    )(ctx);
  }
}
