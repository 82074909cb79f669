import type { JobDefinition, PipelineDefinition } from "./definitions.ts";

/** A stage and the jobs of it that this run includes. */
export interface PlannedStage {
  readonly name: string;
  readonly jobs: readonly JobDefinition[];
}

/** A job name on the command line that the file does not define. */
export class UnknownJobError extends Error {
  override readonly name = "UnknownJobError";
}

/**
 * The jobs to run, grouped by stage in the file's stage order: the named jobs (whatever their
 * `when`), or, when none is named, every job that is not `when: manual`.
 */
export function planRun(pipeline: PipelineDefinition, selected: readonly string[]): PlannedStage[] {
  const byName = new Map(pipeline.jobs.map((j) => [j.name, j]));
  const missing = selected.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    const known = pipeline.jobs.map((j) => j.name).join(", ");
    throw new UnknownJobError(`Job ${missing.map((m) => `"${m}"`).join(", ")} is not defined in the pipeline; jobs are: ${known}`);
  }
  const chosen = selected.length > 0
    ? pipeline.jobs.filter((j) => selected.includes(j.name))
    : pipeline.jobs.filter((j) => j.when !== "manual");
  return pipeline.stages
    .map((name) => ({ name, jobs: chosen.filter((j) => j.stage === name) }))
    .filter((stage) => stage.jobs.length > 0);
}
