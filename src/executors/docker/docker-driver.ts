import { readGitSettings } from "../../job/git-settings.ts";
import { projectPath } from "../../protocol/token.ts";
import type { RunnerConfig } from "../../config/config-schema.ts";
import type { DriverJob, ExecutorDriver } from "../executor.ts";
import { dockerOwner, keptVolumeSuffix } from "./docker-names.ts";
import { DockerApi } from "./docker-api.ts";
import { dockerEndpoint } from "./docker-endpoint.ts";
import { createDockerExecutor } from "./docker-executor.ts";
import { allowedServices, dockerSettings, helperImage, jobImage } from "./docker-options.ts";
import type { Ownership } from "./labels.ts";
import { registryAuth } from "./registry-auth.ts";
import { serviceImages } from "./services.ts";

/**
 * `executor = "docker"`: the job in containers of its image, `[runners.docker]` deciding what is
 * allowed and how the containers are made.
 */
export const dockerDriver: ExecutorDriver = (job) => {
  const { runner, payload, hostEnv } = job;
  const docker = runner.docker ?? {};
  const image = jobImage(docker, payload.image);
  const owner = dockerOwner(runner, payload);
  const path = projectPath(payload.git_info.repo_url, payload.job_info.project_id);
  const auth = payload.variables.find((v) => v.key === "DOCKER_AUTH_CONFIG")?.value ?? hostEnv.DOCKER_AUTH_CONFIG;
  const kept = keptBuildVolume(job, owner);
  return createDockerExecutor({
    api: dockerApi(runner, hostEnv), owner, projectPath: path,
    image, helperImage: helperImage(docker, image.pullPolicies), helperFallback: docker.helper_image === undefined,
    // The default helper is there for git (get_sources); a copied-in job needs none of it.
    ...(job.sourcesCopiedIn && docker.helper_image === undefined ? { helperOptional: true } : {}),
    settings: dockerSettings(docker, { runner: owner.runner, path }, image.name),
    services: serviceImages(allowedServices(docker, payload.services), image.pullPolicies),
    registryAuth: (name) => registryAuth(name, { credentials: payload.credentials, ...(auth ? { dockerAuthConfig: auth } : {}) }),
    jobVariables: payload.variables.filter((v) => !v.file).map((v) => `${v.key}=${v.value}`),
    ...(kept ? { keptVolume: kept } : {}),
    ...(docker.wait_for_services_timeout !== undefined ? { waitForServicesSeconds: docker.wait_for_services_timeout } : {}),
  });
};

/** The Engine API of `[runners.docker] host` (with its TLS settings), else DOCKER_HOST (with DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) or the local socket. */
export function dockerApi(runner: RunnerConfig, env: Readonly<Record<string, string | undefined>>): DockerApi {
  return new DockerApi(dockerEndpoint(runner.docker ?? {}, env));
}

/**
 * GitLab Runner's rule (executors/docker createBuildVolume): with `GIT_STRATEGY: fetch` the build
 * directory is a volume kept from job to job, one per runner, project and concurrent slot, unless
 * `disable_cache`; otherwise it is the job's own and removed with it.
 */
function keptBuildVolume({ runner, payload, place }: DriverJob, owner: Ownership): string | undefined {
  if (runner.docker?.disable_cache) return undefined;
  if (readGitSettings(payload, payload.variables).settings.strategy !== "fetch") return undefined;
  return `runner-${owner.runner}-project-${payload.job_info.project_id}-concurrent-${place.slot}${keptVolumeSuffix(payload.git_info.repo_url)}`;
}
