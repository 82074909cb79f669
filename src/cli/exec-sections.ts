import type { RunnerConfig } from "../config/config-schema.ts";
import { EXECUTOR_NAMES } from "../runners/executor-registry.ts";
import { customSectionOf, sshSectionOf, type ExecutorFlagValues } from "./commands/executor-flags.ts";
import { cacheSectionOf, type CacheFlagValues } from "./commands/cache-flags.ts";
import { UsageError } from "./exit-codes.ts";

type SshSection = NonNullable<RunnerConfig["ssh"]>;

/** `[runners.ssh]` or `[runners.custom]` for `runner exec`, and the builds directory that goes with it. */
export interface ExecutorSection<S> {
  readonly section: S;
  readonly buildsDir?: string;
}

/**
 * The ssh or custom executor's settings for `runner exec --executor ssh|custom`: the flags (GitLab
 * Runner's names), over the section of the first runner of that executor in `--config` when one is
 * given; the ssh user is the login name unless one is given, as ssh(1)'s.
 */
export async function executorSectionFrom(executor: "ssh" | "custom", options: {
  readonly configFile?: string; readonly env: Record<string, string>; readonly flags: ExecutorFlagValues; readonly buildsDir?: string;
}): Promise<ExecutorSection<SshSection> | ExecutorSection<Record<string, unknown>>> {
  let configured: RunnerConfig | undefined;
  if (options.configFile) {
    const { loadConfig } = await import("../config/config-file.ts");
    const { config } = await loadConfig(options.configFile, options.env, EXECUTOR_NAMES);
    configured = config.runners.find((r) => r.executor === executor) ?? config.runners.find((r) => r[executor] !== undefined);
  }
  const buildsDir = options.buildsDir ?? configured?.builds_dir;
  const where = buildsDir ? { buildsDir } : {};
  if (executor === "custom") {
    const section = { ...(configured?.custom as Record<string, unknown> | undefined), ...customSectionOf(options.flags) };
    if (!section.run_exec) throw new UsageError("--executor custom needs --custom-run-exec (or a [runners.custom] run_exec in --config)");
    return { section, ...where };
  }
  const from = configured?.ssh ?? {};
  const section: SshSection = { ...from, ...sshSectionOf(options.flags) };
  if (!section.host) throw new UsageError("--executor ssh needs --ssh-host (or a [runners.ssh] host in --config)");
  return { section: { ...section, user: section.user ?? options.env.USER ?? "root" }, ...where };
}

/**
 * The shared cache for `runner exec`: the `--cache-*` flags, else the first `[runners.cache]` of
 * `--config` that names a type; checked as config.toml's would be.
 */
export async function sharedCacheFrom(options: {
  readonly configFile?: string; readonly env: Record<string, string>; readonly flags: CacheFlagValues;
}): Promise<RunnerConfig["cache"] | undefined> {
  let cache = cacheSectionOf(options.flags);
  if (!cache && options.configFile) {
    const { loadConfig } = await import("../config/config-file.ts");
    const { config } = await loadConfig(options.configFile, options.env, EXECUTOR_NAMES);
    cache = config.runners.find((r) => r.cache?.Type)?.cache;
  }
  if (!cache) return undefined;
  const { cacheProblems } = await import("../config/config-honesty.ts");
  const problems = cacheProblems(cache as Record<string, unknown>, "[runners.cache]", []);
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  return cache;
}
