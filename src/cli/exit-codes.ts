/** Exit codes of the runner's commands. */
export const EXIT = {
  /** Every job passed (a failure that is allowed counts as passed). */
  ok: 0,
  /** A job failed, or was canceled. */
  jobFailed: 1,
  /** Bad input: unknown job, invalid YAML, a job with no script, a bad option. */
  badInput: 2,
  /** A valid file whose workflow:rules would not create the pipeline: nothing ran. */
  pipelineFiltered: 3,
} as const;

/** An error in what the user gave us; reported as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
