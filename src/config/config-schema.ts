import { z } from "../zod-jitless.ts";
import { RUNNER_DEFAULTS as D } from "./runner-defaults.ts";

/**
 * config.toml as GitLab Runner writes and reads it (docs/protocol.md §12). Every key GitLab
 * Runner knows is accepted, so a user's file loads; the ones this runner acts on are typed here
 * with their defaults. Keys GitLab Runner does not know warn (see `unknownKeys`).
 */

const str = z.string();
const int = z.number().int();
const bool = z.boolean();
const strings = z.array(z.string());
/** A key GitLab Runner knows but this runner only carries. */
const carried = z.unknown().optional();

export const dockerSchema = z.object({
  host: str.optional(), tls_cert_path: str.optional(), tls_verify: bool.optional(), hostname: str.optional(),
  image: str.optional(), runtime: str.optional(), memory: str.optional(), memory_swap: str.optional(),
  memory_reservation: str.optional(), cgroup_parent: str.optional(), cpuset_cpus: str.optional(),
  cpuset_mems: str.optional(), cpus: str.optional(), cpu_shares: int.optional(), dns: strings.optional(),
  dns_search: strings.optional(), privileged: bool.optional(), services_privileged: bool.optional(),
  disable_entrypoint_overwrite: bool.optional(), user: str.optional(), allowed_users: strings.optional(),
  group_add: strings.optional(), userns_mode: str.optional(), cap_add: strings.optional(), cap_drop: strings.optional(),
  oom_kill_disable: bool.optional(), oom_score_adjust: int.optional(), security_opt: strings.optional(),
  services_security_opt: strings.optional(), devices: strings.optional(), device_cgroup_rules: strings.optional(),
  gpus: str.optional(), services_devices: carried, disable_cache: bool.optional(), volumes: strings.optional(),
  volume_keep: bool.optional(), volume_driver: str.optional(), volume_driver_ops: carried, cache_dir: str.optional(),
  extra_hosts: strings.optional(), volumes_from: strings.optional(), network_mode: str.optional(),
  pid_mode: str.optional(), ipcmode: str.optional(), mac_address: str.optional(), links: strings.optional(),
  services: carried, services_limit: int.optional(), service_memory: str.optional(),
  service_memory_swap: str.optional(), service_memory_reservation: str.optional(), service_cgroup_parent: str.optional(),
  service_cpuset_cpus: str.optional(), service_cpu_shares: int.optional(), service_cpus: str.optional(),
  service_gpus: str.optional(), wait_for_services_timeout: int.optional(), allowed_images: strings.optional(),
  allowed_privileged_images: strings.optional(), allowed_privileged_services: strings.optional(),
  allowed_pull_policies: strings.optional(), allowed_services: strings.optional(),
  pull_policy: z.union([str, strings]).optional(), isolation: str.optional(), shm_size: int.optional(),
  tmpfs: z.record(str, str).optional(), services_tmpfs: z.record(str, str).optional(), sysctls: z.record(str, str).optional(),
  helper_image: str.optional(), helper_image_flavor: str.optional(), container_labels: z.record(str, str).optional(),
  enable_ipv6: bool.optional(), ulimit: z.record(str, str).optional(), network_mtu: int.optional(),
  log_options: carried, helper_image_autoset_arch_and_os: bool.optional(),
});

export const sshSchema = z.object({
  host: str.optional(), port: z.union([str, int]).optional(), user: str.optional(), password: str.optional(),
  identity_file: str.optional(), disable_strict_host_key_checking: bool.optional(), known_hosts_file: str.optional(),
});

/** `[runners.cache.s3]`, in GitLab Runner's CamelCase (cache/cacheconfig/cacheconfig.go). */
export const s3CacheSchema = z.looseObject({
  ServerAddress: str.optional(), AccessKey: str.optional(), SecretKey: str.optional(), SessionToken: str.optional(),
  BucketName: str.optional(), BucketLocation: str.optional(), Insecure: bool.optional(), AuthenticationType: str.optional(),
  ServerSideEncryption: str.optional(), ServerSideEncryptionKeyID: str.optional(), PathStyle: bool.optional(),
});

export const cacheSchema = z.object({
  Type: str.optional(), Path: str.optional(), Shared: bool.optional(), MaxUploadedArchiveSize: int.optional(),
  s3: s3CacheSchema.optional(), gcs: z.record(str, z.unknown()).optional(),
  azure: z.record(str, z.unknown()).optional(),
});

export const runnerSchema = z.object({
  name: str.default(D.name), url: str, id: int.optional(), token: str, token_obtained_at: z.unknown().optional(),
  token_expires_at: z.unknown().optional(), "tls-ca-file": str.optional(), "tls-cert-file": str.optional(),
  "tls-key-file": str.optional(), limit: int.default(D.limit), output_limit: int.default(D.output_limit),
  request_concurrency: int.default(D.request_concurrency), strict_check_interval: bool.optional(),
  unhealthy_requests_limit: int.default(D.unhealthy_requests_limit), unhealthy_interval: z.union([str, int]).optional(),
  job_status_final_update_retry_limit: int.default(D.job_status_final_update_retry_limit), executor: str.default(D.executor), shell: str.optional(),
  builds_dir: str.optional(), cache_dir: str.optional(), clone_url: str.optional(), environment: strings.default(() => [...D.environment]),
  pre_get_sources_script: str.optional(), post_get_sources_script: str.optional(),
  pre_clone_script: str.optional(), post_clone_script: str.optional(),
  pre_build_script: str.optional(), post_build_script: str.optional(), prepare_timeout: z.unknown().optional(),
  get_sources_timeout: z.unknown().optional(), debug_trace_disabled: bool.optional(),
  safe_directory_checkout: bool.optional(), clean_git_config: bool.optional(),
  feature_flags: z.record(str, bool).default(() => ({ ...D.feature_flags })), labels: z.record(str, str).optional(),
  // This runner's own: keep a run record (events.jsonl, summary.json, …) of each job in this directory.
  record_dir: str.optional(),
  custom_build_dir: z.object({ enabled: bool.optional() }).optional(),
  artifact: z.object({ upload_timeout: z.unknown().optional(), response_header_timeout: z.unknown().optional() }).optional(),
  docker: dockerSchema.optional(), ssh: sshSchema.optional(), cache: cacheSchema.optional(),
  // Executors this runner does not drive; their sections are accepted so that a file loads.
  kubernetes: carried, custom: carried, machine: carried, autoscaler: carried, parallels: carried,
  virtualbox: carried, instance: carried, referees: carried, docker_autoscaler: carried,
  step_runner_image: carried, monitoring: carried,
});

export const configSchema = z.object({
  concurrent: int.positive().default(1),
  check_interval: int.default(3),
  log_level: z.enum(["debug", "info", "warn", "warning", "error", "fatal", "panic"]).default("info"),
  log_format: z.enum(["runner", "text", "json"]).default("runner"),
  listen_address: str.optional(),
  shutdown_timeout: int.default(30),
  connection_max_age: z.unknown().optional(),
  sentry_dsn: str.optional(),
  labels: z.record(str, str).optional(),
  session_server: z.object({
    listen_address: str.optional(), advertise_address: str.optional(), session_timeout: int.optional(),
  }).optional(),
  experimental: carried,
  runners: z.array(runnerSchema).default([]),
});

export type RunnerConfig = z.infer<typeof runnerSchema>;
export type Config = z.infer<typeof configSchema>;
