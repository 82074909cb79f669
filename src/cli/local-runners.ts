import { join, resolve } from "node:path";
import { runnerSchema, type RunnerConfig } from "../config/config-schema.ts";
import type { LocalExecutorName } from "./executor-choice.ts";
import type { ExecOptions } from "./exec-options.ts";

/**
 * The `[[runners]]` entries `runner exec` runs its jobs with, made of its flags as config.toml would
 * give them (as `run-single` does): the same road below as a runner's jobs from GitLab take.
 */
export function localRunners(options: ExecOptions, cwd: string): Readonly<Record<LocalExecutorName, RunnerConfig | undefined>> {
  const base = {
    name: "local runner", url: "http://localhost", token: "", shell: options.shell,
    cache_dir: join(cwd, ".runner", "cache"),
    ...(options.sharedCache ? { cache: options.sharedCache } : {}),
  };
  const docker = options.docker;
  const builds = options.buildsDir ? resolve(cwd, options.buildsDir) : join(cwd, ".runner", "builds");
  return {
    shell: runnerSchema.parse({ ...base, executor: "shell", builds_dir: builds }),
    docker: runnerSchema.parse({
      ...base, executor: "docker",
      docker: {
        ...(docker?.image ? { image: docker.image } : {}), ...(docker?.helperImage ? { helper_image: docker.helperImage } : {}),
        pull_policy: [docker?.pullPolicy ?? "if-not-present"],
        // The pipeline's own `pull_policy:` is the user's on their own machine: every policy is allowed.
        allowed_pull_policies: ["always", "if-not-present", "never"],
      },
    }),
    ssh: options.ssh ? runnerSchema.parse({ ...base, executor: "ssh", ssh: options.ssh.section, builds_dir: options.ssh.buildsDir ?? "builds/runner-exec" }) : undefined,
    custom: options.custom
      ? runnerSchema.parse({ ...base, executor: "custom", custom: options.custom.section, builds_dir: options.custom.buildsDir ?? builds })
      : undefined,
  };
}
