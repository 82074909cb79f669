/**
 * What a `[[runners]]` entry's keys are when config.toml leaves them out, as GitLab Runner reads
 * them (docs/protocol.md §12). The schema (config-schema.ts) gives them to a file's entries;
 * `runner exec` builds its entries from flags with them, without loading the schema (its
 * construction costs a local run 3-9 ms of start).
 */
export const RUNNER_DEFAULTS = {
  name: "",
  limit: 0,
  output_limit: 4096,
  request_concurrency: 1,
  unhealthy_requests_limit: 3,
  job_status_final_update_retry_limit: 10,
  executor: "shell",
  environment: [] as readonly string[],
  feature_flags: {} as Readonly<Record<string, boolean>>,
} as const;
