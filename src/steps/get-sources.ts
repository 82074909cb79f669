import { getSourcesScript, hookScript } from "../shell/get-sources-script.ts";
import type { JobContext } from "./context.ts";
import { readGitSettings } from "../job/git-settings.ts";
import { JobFailure } from "../protocol/job-failure.ts";
import { runStage, scriptEnvironment } from "./run-stage.ts";

/** get_sources: the repository at the job's commit in the project directory (docs/protocol.md §11.3). */
export async function getSources(ctx: JobContext): Promise<void> {
  const { settings, warnings, error } = readGitSettings(ctx.job, ctx.variables);
  for (const warning of warnings) ctx.trace.warning(warning);
  if (error !== undefined) throw new JobFailure(error, { failureReason: "configuration_error" });
  const hooks = ctx.job.hooks ?? [];
  if (ctx.sources.kind === "local" && (settings.strategy === "clone" || settings.strategy === "fetch")) {
    // The working tree is copied instead of fetched; the hooks still run around it, as around a fetch.
    const env = scriptEnvironment(ctx, "running");
    const pre = hooks.filter((h) => h.name === "pre_get_sources_script").flatMap((h) => h.script);
    const post = hooks.filter((h) => h.name === "post_get_sources_script").flatMap((h) => h.script);
    const parent = env.projectDir.replace(/\/[^/]+\/?$/, "") || "/";
    if (pre.length > 0) await runStage(ctx, "get_sources", hookScript(ctx.shell, env, pre, parent), { predefined: true });
    await ctx.sources.provide(ctx);
    if (post.length > 0) await runStage(ctx, "get_sources", hookScript(ctx.shell, env, post, env.projectDir), { predefined: true });
    return;
  }
  const script = getSourcesScript(ctx.shell, scriptEnvironment(ctx, "running"), {
    git: ctx.job.git_info,
    settings,
    userAgent: ctx.settings.userAgent,
    preCloneCommands: [
      ...(ctx.settings.preGetSourcesScript ?? []),
      ...hooks.filter((h) => h.name === "pre_get_sources_script").flatMap((h) => h.script),
    ],
    postCloneCommands: [
      ...hooks.filter((h) => h.name === "post_get_sources_script").flatMap((h) => h.script),
      ...(ctx.settings.postGetSourcesScript ?? []),
    ],
  });
  await runStage(ctx, "get_sources", script, { predefined: true });
}

/** clear_worktree: before another get_sources attempt, start from an empty project directory. */
export async function clearWorktree(ctx: JobContext): Promise<void> {
  const script = getSourcesScript(ctx.shell, scriptEnvironment(ctx, "running"), {
    git: ctx.job.git_info,
    settings: { ...readGitSettings(ctx.job, ctx.variables).settings, strategy: "empty" },
    userAgent: ctx.settings.userAgent,
  });
  await runStage(ctx, "clear_worktree", script, { predefined: true });
}
