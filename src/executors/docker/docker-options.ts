import type { z } from "zod";
import type { dockerSchema } from "../../config/config-schema.ts";
import type { Image, PullPolicy } from "../../protocol/types.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import { VERSION } from "../../version.ts";
import type { ContainerImage, DockerSettings } from "./docker-executor.ts";
import { jobHostConfig, serviceHostConfig } from "./host-config.ts";

type DockerConfig = z.infer<typeof dockerSchema>;

/** The image the helper container runs unless `helper_image` names another: this runner's own. */
export const DEFAULT_HELPER_IMAGE = `runner-helper:${VERSION}`;

const POLICIES: readonly PullPolicy[] = ["always", "if-not-present", "never"];

/**
 * The job's image as `[runners.docker]` allows it: the job's `image` or the configured default,
 * checked against `allowed_images`, with the pull policies GitLab Runner would use (the job's,
 * when `allowed_pull_policies` permits them, else the configured ones, else `always`).
 */
export function jobImage(config: DockerConfig, image: Image | null | undefined, defaultPolicies: readonly PullPolicy[] = ["always"]): ContainerImage {
  const name = image?.name || config.image;
  if (!name) fail("no Docker image is given: set image: in the job or [runners.docker] image");
  if (config.allowed_images?.length && image?.name && !config.allowed_images.some((p) => new Bun.Glob(p).match(name))) {
    fail(`The "${name}" image is not present on list of allowed images:\n- ${config.allowed_images.join("\n- ")}\nPlease check runner's configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration.html#restrict-docker-images-and-services`);
  }
  const user = image?.executor_opts?.docker?.user ?? config.user;
  if (user !== undefined && config.allowed_users?.length && !config.allowed_users.includes(String(user))) {
    fail(`The "${user}" user is not present on list of allowed users:\n- ${config.allowed_users.join("\n- ")}\nPlease check runner's configuration (allowed_users of [runners.docker])`);
  }
  const platform = image?.executor_opts?.docker?.platform;
  return {
    name, pullPolicies: pullPolicies(config, image?.pull_policy, defaultPolicies),
    ...(image?.entrypoint ? { entrypoint: image.entrypoint } : {}),
    ...(user !== undefined ? { user: String(user) } : {}), ...(platform ? { platform } : {}),
  };
}

/** The job's services, each checked against `allowed_services`. */
export function allowedServices(config: DockerConfig, services: readonly Image[] | null | undefined): readonly Image[] {
  const allowed = config.allowed_services;
  const limit = config.services_limit;
  if (limit !== undefined && limit >= 0 && (services?.length ?? 0) > limit) {
    fail(`The job asks for ${services!.length} services; services_limit of [runners.docker] allows ${limit}`);
  }
  for (const service of services ?? []) {
    if (allowed?.length && !allowed.some((p) => new Bun.Glob(p).match(service.name))) {
      fail(`The "${service.name}" service is not present on list of allowed services:\n- ${allowed.join("\n- ")}`);
    }
  }
  return services ?? [];
}

/** The helper container's image: `helper_image`, else this runner's image. */
export function helperImage(config: DockerConfig, policies: readonly PullPolicy[]): ContainerImage {
  return { name: config.helper_image ?? DEFAULT_HELPER_IMAGE, pullPolicies: policies.includes("always") ? ["if-not-present"] : policies };
}

export function pullPolicies(config: DockerConfig, requested: readonly PullPolicy[] | undefined, defaults: readonly PullPolicy[]): PullPolicy[] {
  const configured = config.pull_policy === undefined ? [...defaults] : [config.pull_policy].flat().map(checkPolicy);
  const allowed = config.allowed_pull_policies?.map(checkPolicy) ?? configured;
  if (requested?.length) {
    const refused = requested.filter((p) => !allowed.includes(p));
    if (refused.length > 0) {
      fail(`pull_policy ([${requested.join(" ")}]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([${allowed.join(" ")}])`);
    }
    return [...requested];
  }
  return configured.filter((p) => allowed.includes(p));
}

/**
 * `[runners.docker]` keys the containers are made with. `project` names the job's project (the
 * `/cache` volume is per project, as GitLab Runner's is).
 */
export function dockerSettings(config: DockerConfig, project?: { runner: string; path: string }, imageName?: string): DockerSettings {
  const cacheVolume = config.disable_cache || !project
    ? undefined
    : config.cache_dir
    ? { hostDir: `${config.cache_dir.replace(/\/+$/, "")}/${project.path}` }
    : { volume: `runner-${project.runner}-cache-${Bun.hash(project.path).toString(16)}` };
  return {
    ...(cacheVolume ? { cacheVolume } : {}),
    ...(config.privileged !== undefined ? { privileged: privileged(config, imageName) } : {}),
    hostConfig: jobHostConfig(config),
    servicesHostConfig: serviceHostConfig(config),
    ...(config.volumes ? { volumes: config.volumes } : {}),
    ...(config.network_mode ? { networkMode: config.network_mode } : {}),
    ...(config.extra_hosts ? { extraHosts: config.extra_hosts } : {}),
    ...(config.memory ? { memory: config.memory } : {}),
    ...(config.cpus ? { cpus: config.cpus } : {}),
    ...(config.shm_size ? { shmSize: config.shm_size } : {}),
    ...(config.tmpfs ? { tmpfs: config.tmpfs } : {}),
    ...(config.user ? { user: config.user } : {}),
    ...(config.ulimit ? { ulimits: config.ulimit } : {}),
  };
}

/** `privileged`, for the job's image only when `allowed_privileged_images` (if any) lists it. */
function privileged(config: DockerConfig, imageName: string | undefined): boolean {
  if (!config.privileged) return false;
  const allowed = config.allowed_privileged_images;
  if (!allowed?.length) return true;
  return imageName !== undefined && allowed.some((p) => new Bun.Glob(p).match(imageName));
}

function checkPolicy(policy: string): PullPolicy {
  if (!(POLICIES as readonly string[]).includes(policy)) {
    fail(`[runners.docker] pull_policy: "${policy}" is not one of ${POLICIES.join(", ")}`);
  }
  return policy as PullPolicy;
}

function fail(message: string): never {
  throw new JobFailure(message, { failureReason: "configuration_error" });
}
