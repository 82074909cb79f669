/** Keywords of a job (docs/pipeline.md §4). */
export const JOB_KEYWORDS: ReadonlySet<string> = new Set([
  "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage", "dast_configuration",
  "dependencies", "environment", "extends", "hooks", "id_tokens", "identity", "image", "inherit", "inputs",
  "interruptible", "manual_confirmation", "needs", "pages", "parallel", "publish", "release", "resource_group",
  "retry", "rules", "run", "script", "secrets", "services", "stage", "start_in", "tags", "timeout", "trigger",
  "variables", "when", "only", "except",
]);

/** Top-level keys that are not jobs (docs/pipeline.md §3). */
export const GLOBAL_KEYWORDS: ReadonlySet<string> = new Set([
  "default", "include", "stages", "variables", "workflow", "spec", "image", "services", "cache",
  "before_script", "after_script", "types",
]);

/** Keys of `default:`; each is copied into every job that does not set it. */
export const DEFAULT_KEYWORDS: readonly string[] = [
  "after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens", "identity", "image",
  "interruptible", "retry", "services", "tags", "timeout",
];

/** Top-level keys that are the deprecated spelling of a `default:` key. */
export const DEPRECATED_GLOBAL_DEFAULTS: readonly string[] = [
  "image", "services", "cache", "before_script", "after_script",
];

export const DEFAULT_STAGES: readonly string[] = ["build", "test", "deploy"];

export const JOB_WHEN = ["on_success", "on_failure", "always", "manual", "delayed"] as const;
export type JobWhen = (typeof JOB_WHEN)[number];
