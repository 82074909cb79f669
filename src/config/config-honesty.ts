import type { Config } from "./config-schema.ts";

/**
 * Keys GitLab Runner knows that load here but change nothing, with why: each present one is warned
 * about at load with its path, so nobody believes a setting is in force when it is not.
 */
const GLOBAL_NO_EFFECT: Readonly<Record<string, string>> = {
  connection_max_age: "connections are not recycled by age",
  sentry_dsn: "errors are not sent to Sentry",
  session_server: "there is no interactive web terminal",
  experimental: "no experimental feature is read",
  labels: "labels are not sent to GitLab",
};

const RUNNER_NO_EFFECT: Readonly<Record<string, string>> = {
  "tls-ca-file": "TLS to GitLab is verified with the system's certificate store",
  "tls-cert-file": "no client certificate is sent to GitLab",
  "tls-key-file": "no client certificate is sent to GitLab",
  strict_check_interval: "requests follow check_interval without it",
  clone_url: "git fetches from the repository URL GitLab sends",
  prepare_timeout: "preparing the executor has no timeout of its own",
  get_sources_timeout: "get_sources runs under the job's timeout",
  safe_directory_checkout: "git's safe.directory is not set",
  labels: "labels are not sent to GitLab",
  custom_build_dir: "GIT_CLONE_PATH is not supported",
  artifact: "artifact transfers run under the job's timeout",
  monitoring: "job queuing thresholds are not monitored",
  step_runner_image: "CI steps are not run",
  referees: "no referee (metrics) artifacts are made",
  kubernetes: "this runner has no kubernetes executor",
  machine: "this runner has no docker+machine executor",
  autoscaler: "this runner has no autoscaler",
  docker_autoscaler: "this runner has no docker-autoscaler executor",
  instance: "this runner has no instance executor",
  parallels: "this runner has no parallels executor",
  virtualbox: "this runner has no virtualbox executor",
};

const DOCKER_NO_EFFECT: Readonly<Record<string, string>> = {
  hostname: "containers keep the hostname Docker gives them",
  services_privileged: "service containers are never privileged",
  allowed_privileged_services: "service containers are never privileged",
  disable_entrypoint_overwrite: "the image's entrypoint is always kept",
  gpus: "no GPU is handed to the containers",
  services_devices: "no device is handed to service containers",
  service_gpus: "no GPU is handed to service containers",
  volume_keep: "the job's build volume is removed at its end",
  volume_driver: "volumes use Docker's default driver",
  volume_driver_ops: "volumes use Docker's default driver",
  volumes_from: "no container's volumes are shared",
  mac_address: "containers keep the MAC address Docker gives them",
  links: "services are reached over the job's network, not links",
  services: "only the job's own services: are started",
  isolation: "it is for Windows containers",
  container_labels: "containers carry the runner's own labels only",
  enable_ipv6: "the job's network is IPv4",
  network_mtu: "the job's network has Docker's MTU",
  log_options: "containers log with Docker's default driver",
  helper_image_flavor: "the helper image is this runner's own (or helper_image)",
  helper_image_autoset_arch_and_os: "the helper image is this runner's own (or helper_image)",
};

/** Values GitLab Runner's `register` writes that mean "the default": not worth a warning. */
const WRITTEN_DEFAULTS: Readonly<Record<string, unknown>> = { connection_max_age: "15m0s", session_timeout: 1800 };

/**
 * Whether a value asks for something: `false`, `0`, `""`, an empty list and a table of only such
 * values (what `register` writes for sections left alone, like `[runners.cache.s3]`) do not.
 */
function meaningful(key: string, value: unknown): boolean {
  if (value === false || value === 0 || value === "" || value === null || value === undefined) return false;
  if (WRITTEN_DEFAULTS[key] === value) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.entries(value as Record<string, unknown>).some(([k, v]) => meaningful(k, v));
  return true;
}

/** What config.toml holds that the runner cannot honour: warnings, and what must stop it. */
export interface ConfigHonesty {
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
}

/**
 * Names every key of `raw` (the file as written) that asks for something yet has no effect, with
 * its path (what `register` writes for sections left alone says nothing), and refuses
 * what would make a job run with weaker isolation than configured: `clean_git_config = true` on an
 * executor whose build directory outlives the job (shell, ssh), which this runner does not clean.
 */
export function reviewHonesty(raw: unknown, config: Config): ConfigHonesty {
  const warnings: string[] = [];
  const errors: string[] = [];
  const file = record(raw);
  const asked = (table: Record<string, unknown>) => Object.keys(table).filter((key) => meaningful(key, table[key]));
  for (const key of asked(file)) if (GLOBAL_NO_EFFECT[key]) warnings.push(`${key}: has no effect in this runner: ${GLOBAL_NO_EFFECT[key]}`);
  const runners = Array.isArray(file.runners) ? file.runners : [];
  runners.forEach((entry, i) => {
    const runner = record(entry);
    const at = `runners[${i}]`;
    for (const key of asked(runner)) {
      if (RUNNER_NO_EFFECT[key]) warnings.push(`${at}.${key}: has no effect in this runner: ${RUNNER_NO_EFFECT[key]}`);
    }
    for (const key of asked(record(runner.docker))) {
      if (DOCKER_NO_EFFECT[key]) warnings.push(`${at}.docker.${key}: has no effect in this runner: ${DOCKER_NO_EFFECT[key]}`);
    }
    errors.push(...cacheProblems(record(runner.cache), `${at}.cache`, warnings));
    const executor = config.runners[i]?.executor ?? "shell";
    if (runner.clean_git_config === true && executor !== "docker") {
      errors.push(
        `${at}.clean_git_config = true: this runner does not clean the git configuration of a build directory that outlives ` +
          `the job (the ${executor} executor), so a job could leave hooks or settings for the next one; remove the key to accept that, ` +
          `or use the docker executor (a fresh build volume per job)`,
      );
    }
  });
  return { warnings, errors };
}

/**
 * `[runners.cache]`: `Type = "s3"` is used (with access keys); GCS and Azure are not here, and say
 * so; an S3 cache without what it needs stops the runner, as a cache that silently stays local would
 * leave every other runner of the fleet cold.
 */
export function cacheProblems(cache: Record<string, unknown>, at: string, warnings: string[]): string[] {
  const type = cache.Type;
  if (type === undefined || type === "") return [];
  if (type === "gcs" || type === "azure") {
    warnings.push(`${at}.Type = "${type}": has no effect in this runner: only the s3 cache is shared; caches stay in cache_dir`);
    return [];
  }
  if (type !== "s3") return [`${at}.Type = "${String(type)}": not a cache type (s3, gcs, azure)`];
  const s3 = record(cache.s3);
  const errors: string[] = [];
  if (!s3.BucketName) errors.push(`${at}.s3.BucketName: an s3 cache needs a bucket`);
  if (s3.AuthenticationType === "iam") {
    errors.push(`${at}.s3.AuthenticationType = "iam": this runner signs with access keys only (AccessKey, SecretKey); IAM needs the instance's metadata credentials`);
  } else if (!s3.AccessKey || !s3.SecretKey) {
    errors.push(`${at}.s3: AccessKey and SecretKey are needed (AuthenticationType access-key)`);
  }
  return errors;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
