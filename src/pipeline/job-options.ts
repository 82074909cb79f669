import { ConfigError, type SourcePosition } from "./config-error.ts";
import { parseDuration } from "./duration.ts";
import { isHash } from "./extends.ts";
import { rubyString } from "./ruby-scalars.ts";

/**
 * Readers of the job keywords that shape how a job runs rather than what it is: `retry`,
 * `services`, `start_in`, `allow_failure: exit_codes`. definitions.ts calls them per job.
 */

/** `retry` (docs/pipeline.md §8.5): at most `max` more attempts when the failure matches. */
export interface RetryDefinition {
  readonly max: number;
  /** `always` or failure reasons. */
  readonly when: readonly string[];
  readonly exitCodes: readonly number[];
}

export function readRetry(value: unknown, position?: SourcePosition): RetryDefinition | undefined {
  if (value === undefined || value === null) return undefined;
  const max = typeof value === "number" ? value : isHash(value) ? (value.max ?? 0) : undefined;
  if (typeof max !== "number" || !Number.isInteger(max)) {
    throw new ConfigError("retry config has to be either an integer or a hash", position);
  }
  if (max < 0 || max > 2) throw new ConfigError("retry config must be less than or equal to 2", position);
  if (!isHash(value)) return { max, when: ["always"], exitCodes: [] };
  const list = (v: unknown) => (v === undefined || v === null ? undefined : Array.isArray(v) ? v : [v]);
  const exitCodes = (list(value.exit_codes) ?? []).map(Number);
  const when = (list(value.when) ?? (exitCodes.length > 0 ? [] : ["always"])).map(String);
  // GitLab's FullRetry: a string must be one of the list, an array may hold nothing else.
  const unknown = when.filter((w) => !RETRY_WHEN.includes(w));
  if (unknown.length > 0) {
    throw new ConfigError(Array.isArray(value.when) ? `retry when contains unknown values: ${unknown.join(", ")}` : "retry when is not included in the list", position);
  }
  if (exitCodes.some((code) => !Number.isInteger(code))) throw new ConfigError("retry exit codes should be an array of integers or an integer", position);
  return { max, when, exitCodes };
}

/**
 * `always` and the failure reasons `retry:when` accepts: every key of GitLab's failure_reason enum
 * (app/models/concerns/enums/ci/commit_status.rb) and `runner_provisioning_timeout` (docs/pipeline.md §8.5).
 */
const RETRY_WHEN = [
  "always", "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure", "runner_system_failure",
  "missing_dependency_failure", "runner_unsupported", "stale_schedule", "job_execution_timeout", "archived_failure",
  "unmet_prerequisites", "scheduler_failure", "data_integrity_failure", "forward_deployment_failure", "user_blocked",
  "project_deleted", "ci_quota_exceeded", "pipeline_loop_detected", "no_matching_runner", "trace_size_exceeded",
  "builds_disabled", "environment_creation_failure", "deployment_rejected", "failed_outdated_deployment_job",
  "job_execution_server_timeout", "stuck_pending_with_matching_runners", "stuck_pending_no_matching_runners",
  "no_updates_running", "no_updates_canceling", "server_timeout_running", "server_timeout_canceling",
  "runner_configuration_error", "runner_external_dependency_failure", "runner_interrupted",
  "protected_environment_failure", "insufficient_bridge_permissions", "downstream_bridge_project_not_found",
  "invalid_bridge_trigger", "upstream_bridge_project_not_found", "insufficient_upstream_permissions",
  "bridge_pipeline_is_child_pipeline", "downstream_pipeline_creation_failed", "secrets_provider_not_found",
  "reached_max_descendant_pipelines_depth", "ip_restriction_failure", "reached_max_pipeline_hierarchy_size",
  "reached_downstream_pipeline_trigger_rate_limit", "duo_workflow_not_allowed", "job_router_failure", "job_token_expired",
  "id_token_burned_project_path", "downstream_project_trigger_resolved_to_empty", "runner_provisioning_timeout",
];

/** `start_in`: required for `when: delayed` (and only there), a duration of at most a week. */
export function readStartIn(value: unknown, delayed: boolean, location: string, position?: SourcePosition): number | undefined {
  if (value === undefined || value === null) {
    if (delayed) throw new ConfigError(`${location} start in can't be blank`, position);
    return undefined;
  }
  if (!delayed) throw new ConfigError(`${location} start in must be blank`, position);
  const seconds = parseDuration(rubyString(value));
  if (seconds === undefined) throw new ConfigError(`${location} start in should be a duration`, position);
  if (seconds > 7 * 24 * 3600) throw new ConfigError(`${location} start in should not exceed the limit`, position);
  return seconds;
}

export function allowedExitCodes(value: unknown, location: string, position?: SourcePosition): number[] | undefined {
  if (!isHash(value) || value.exit_codes === undefined || value.exit_codes === null) return undefined;
  const codes = Array.isArray(value.exit_codes) ? value.exit_codes : [value.exit_codes];
  if (!codes.every((code) => Number.isInteger(code))) {
    throw new ConfigError(`${location}:allow_failure exit codes should be an array of integers or an integer`, position);
  }
  return codes as number[];
}
