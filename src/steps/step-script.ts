import { scriptLineMark } from "../record/script-markers.ts";
import { userScript } from "../shell/stage-scripts.ts";
import { section } from "./compose.ts";
import type { JobContext } from "./context.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/** The commands of a step stage, the runner's pre/post build scripts around the step's own; empty ones dropped. */
export function stepCommands(ctx: Pick<JobContext, "settings">, script: readonly string[]): string[] {
  return [...(ctx.settings.preBuildScript ?? []), ...script, ...(ctx.settings.postBuildScript ?? [])].filter((c) => c.trim() !== "");
}

/**
 * step_script (and any other non-after_script step): before_script and script in one shell, each
 * step its own stage, stopping at the first failure. The runner's pre/post build scripts wrap them.
 */
export async function stepScript(ctx: JobContext): Promise<void> {
  for (const step of ctx.job.steps) {
    if (step.name === "after_script") continue;
    const stage = `step_${step.name}` as const;
    const commands = stepCommands(ctx, step.script);
    const script = userScript(ctx.shell, scriptEnvironment(ctx, "running"), commands, { mark: scriptLineMark });
    await section(stage, `Executing "${stage}" stage of the job script`, (c: JobContext) =>
      runStage(c, stage, script, { predefined: false }),
    )(ctx);
  }
}
