import { join } from "node:path";
import type { RunnerConfig } from "../config/config-schema.ts";
import { RUNNER_DEFAULTS } from "../config/runner-defaults.ts";
import type { LocalExecutorName } from "./executor-choice.ts";
import type { ExecOptions } from "./exec-options.ts";
import { localBuildsDir } from "./local-builds-dir.ts";

/**
 * The `[[runners]]` entries `runner exec` runs its jobs with, made of its flags as config.toml would
 * give them (as `run-single` does): the same road below as a runner's jobs from GitLab take. The
 * flags are typed already; the file's defaults fill the rest (the schema need not load).
 */
export function localRunners(options: ExecOptions, cwd: string): Readonly<Record<LocalExecutorName, RunnerConfig | undefined>> {
  const base = {
    name: "local runner", url: "http://localhost", token: "", shell: options.shell,
    cache_dir: join(cwd, ".runner", "cache"),
    ...(options.sharedCache ? { cache: options.sharedCache } : {}),
  };
  const docker = options.docker;
  const builds = localBuildsDir(cwd, options.buildsDir);
  return {
    shell: runner({ ...base, executor: "shell", builds_dir: builds }),
    docker: runner({
      ...base, executor: "docker",
      docker: {
        ...(docker?.image ? { image: docker.image } : {}), ...(docker?.helperImage ? { helper_image: docker.helperImage } : {}),
        pull_policy: [docker?.pullPolicy ?? "if-not-present"],
        // The pipeline's own `pull_policy:` is the user's on their own machine: every policy is allowed.
        allowed_pull_policies: ["always", "if-not-present", "never"],
      },
    }),
    ssh: options.ssh ? runner({ ...base, executor: "ssh", ssh: options.ssh.section, builds_dir: options.ssh.buildsDir ?? "builds/runner-exec" }) : undefined,
    custom: options.custom
      ? runner({ ...base, executor: "custom", custom: options.custom.section, builds_dir: options.custom.buildsDir ?? builds })
      : undefined,
  };
}

function runner(entry: Omit<RunnerConfig, keyof typeof RUNNER_DEFAULTS> & Partial<RunnerConfig>): RunnerConfig {
  return { ...RUNNER_DEFAULTS, environment: [...RUNNER_DEFAULTS.environment], feature_flags: { ...RUNNER_DEFAULTS.feature_flags }, ...entry };
}
