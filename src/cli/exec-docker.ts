import { DockerApi } from "../executors/docker/docker-api.ts";
import { createDockerExecutor } from "../executors/docker/docker-executor.ts";
import { helperImage, jobImage } from "../executors/docker/docker-options.ts";
import { removeLeftovers } from "../executors/docker/labels.ts";
import { serviceImages } from "../executors/docker/services.ts";
import { registryAuth } from "../executors/docker/registry-auth.ts";
import type { Executor } from "../executors/executor.ts";
import type { JobDefinition } from "../pipeline/definitions.ts";
import type { ExecOptions } from "./exec.ts";

/** Removes what crashed earlier local runs left behind (their process is gone). */
export async function removeExecLeftovers(): Promise<void> {
  await removeLeftovers(new DockerApi(), "exec").catch(() => 0);
}

export /**
 * A local job's Docker executor: the job's image (or `--docker-image`), pulled only when missing
 * unless told otherwise, and a build volume per project and job that outlives the run, so that an
 * unchanged working tree is not copied again.
 */
function localDockerExecutor(job: JobDefinition, relative: string, cwd: string, docker: NonNullable<ExecOptions["docker"]>, keep: boolean, env: Record<string, string>): Executor {
  const config = { ...(docker.image ? { image: docker.image } : {}), ...(docker.helperImage ? { helper_image: docker.helperImage } : {}) };
  const image = jobImage(config, job.image ? { name: job.image.name, ...(job.image.entrypoint ? { entrypoint: job.image.entrypoint } : {}) } : undefined, [docker.pullPolicy]);
  const project = Bun.hash(cwd).toString(16);
  const slug = job.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "job";
  return createDockerExecutor({
    api: new DockerApi(), image, helperImage: helperImage(config, [docker.pullPolicy]), helperFallback: !docker.helperImage,
    settings: {}, owner: { runner: "exec", job: `exec-${process.pid}-${slug}-${Bun.hash(job.name).toString(16).slice(0, 6)}` },
    projectPath: relative, keepOnFailure: keep,
    registryAuth: (name) => registryAuth(name, env.DOCKER_AUTH_CONFIG ? { dockerAuthConfig: env.DOCKER_AUTH_CONFIG } : {}),
    services: serviceImages(job.services, image.pullPolicies),
    jobVariables: job.variables.map((v) => `${v.key}=${v.value}`), keptVolume: `runner-exec-${project}-${slug}-${Bun.hash(job.name).toString(16).slice(0, 6)}`,
  });
}
