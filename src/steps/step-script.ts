import { scriptLineMark } from "../trace/script-markers.ts";
import { userScript, type CommandGroup } from "../shell/stage-scripts.ts";
import type { CommandStyle } from "../shell/user-commands.ts";
import { section } from "./compose.ts";
import type { JobContext } from "./context.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/** How the job's flags have its commands written (FF_SCRIPT_SECTIONS needs the job's `trace_sections` too). */
export function commandStyle(ctx: Pick<JobContext, "flags" | "job">): CommandStyle {
  return {
    scriptSections: ctx.flags.on("FF_SCRIPT_SECTIONS") && ctx.job.features.trace_sections,
    checkExitCodes: ctx.flags.on("FF_ENABLE_BASH_EXIT_CODE_CHECK"),
  };
}

/**
 * The command groups of a step stage, as GitLab Runner's writeUserScript: the runner's
 * pre_build_script (one command), the step's own script (`script_step`), the post_build_script.
 */
export function stepCommands(ctx: Pick<JobContext, "settings">, script: readonly string[]): CommandGroup[] {
  const runner = (prefix: string, commands: readonly string[] | undefined): CommandGroup[] =>
    (commands ?? []).length > 0 ? [{ prefix, commands: commands! }] : [];
  return [
    ...runner("pre_build_script", ctx.settings.preBuildScript),
    { prefix: "script_step", commands: script, marked: true },
    ...runner("post_build_script", ctx.settings.postBuildScript),
  ];
}

/**
 * step_script (and any other non-after_script step): before_script and script in one shell, each
 * step its own stage, stopping at the first failure. The runner's pre/post build scripts wrap them.
 */
export async function stepScript(ctx: JobContext): Promise<void> {
  for (const step of ctx.job.steps) {
    if (step.name === "after_script") continue;
    const stage = `step_${step.name}` as const;
    const script = userScript(ctx.shell, scriptEnvironment(ctx, "running"), stepCommands(ctx, step.script), {
      style: { ...commandStyle(ctx), mark: scriptLineMark },
    });
    await section(stage, `Executing "${stage}" stage of the job script`, (c: JobContext) =>
      runStage(c, stage, script, { predefined: false }),
    )(ctx);
  }
}
