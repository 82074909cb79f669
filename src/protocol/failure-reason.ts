import type { FailureReason } from "./types.ts";

const ALWAYS_SUPPORTED: readonly string[] = ["script_failure", "runner_system_failure", "job_execution_timeout"];

/** GitLab Runner's failureReasonsCompatibilityMap (common/network.go). */
const FALLBACKS: Partial<Record<FailureReason, FailureReason>> = {
  image_pull_failure: "runner_system_failure",
  configuration_error: "script_failure",
};

/**
 * The failure reason to send, as GitLab Runner's failureReasonMapper (common/failure_reason_mapper.go):
 * as is when GitLab lists it in `features.failure_reasons` or it is one of the three always
 * supported, else its fallback when that is accepted, else `unknown_failure` (a canceled job's
 * `job_canceled`, which no GitLab lists, so becomes `unknown_failure`, as in GitLab Runner). No
 * reason means `script_failure`.
 */
export function mapFailureReason(reason: FailureReason | undefined, accepted: readonly string[] | undefined): string {
  if (reason === undefined) return "script_failure";
  const supported = (r: string) => ALWAYS_SUPPORTED.includes(r) || (accepted ?? []).includes(r);
  if (supported(reason)) return reason;
  const fallback = FALLBACKS[reason];
  if (fallback !== undefined && supported(fallback)) return fallback;
  return "unknown_failure";
}
