import { REVISION, VERSION } from "../version.ts";

/** Every `features` key of the request body, in GitLab Runner's order; all are always sent (docs/protocol.md §3.1). */
export const FEATURE_KEYS = [
  "variables", "image", "services", "artifacts", "cache", "fallback_cache_keys", "shared",
  "upload_multiple_artifacts", "upload_raw_artifacts", "session", "terminal", "refspecs", "masking", "proxy",
  "raw_variables", "artifacts_exclude", "multi_build_steps", "trace_reset", "trace_checksum", "trace_size",
  "vault_secrets", "cancelable", "return_exit_code", "service_variables", "service_multiple_aliases",
  "image_executor_opts", "service_executor_opts", "cancel_gracefully", "native_steps_integration",
  "two_phase_job_commit", "job_inputs",
] as const;

export type FeatureKey = (typeof FEATURE_KEYS)[number];

/** The `info` object of every runner request. */
export interface RunnerInfo {
  readonly name: string;
  readonly version: string;
  readonly revision: string;
  readonly platform: string;
  readonly architecture: string;
  readonly executor?: string;
  readonly shell?: string;
  readonly features: Readonly<Record<FeatureKey, boolean>>;
  readonly config: { readonly gpus: string };
}

/**
 * What this runner truly supports: the network and script features every executor has, and what
 * the executor adds (`executorFeatures`: shell a shared environment, docker images and services).
 * No terminal or session server, no secrets providers, no step-runner: those are reported false.
 */
export function featuresFor(executorFeatures: readonly FeatureKey[] = []): Record<FeatureKey, boolean> {
  const supported = new Set<FeatureKey>([
    // network layer
    "trace_reset", "trace_checksum", "trace_size", "cancelable", "cancel_gracefully",
    // script layer
    "artifacts", "upload_multiple_artifacts", "upload_raw_artifacts", "cache", "fallback_cache_keys", "refspecs",
    "masking", "raw_variables", "artifacts_exclude", "multi_build_steps", "return_exit_code",
    ...executorFeatures,
  ]);
  return Object.fromEntries(FEATURE_KEYS.map((key) => [key, supported.has(key)])) as Record<FeatureKey, boolean>;
}

/** The `info` object for a runner with the given executor, its features and shell (empty ones are left out). */
export function runnerInfo(options: { executor?: string; shell?: string; features?: readonly FeatureKey[] } = {}): RunnerInfo {
  return {
    name: "gitlab-runner",
    version: VERSION,
    revision: REVISION.slice(0, 8),
    platform: process.platform,
    architecture: process.arch === "x64" ? "amd64" : process.arch,
    ...(options.executor ? { executor: options.executor } : {}),
    ...(options.shell ? { shell: options.shell } : {}),
    features: featuresFor(options.features),
    config: { gpus: "" },
  };
}
