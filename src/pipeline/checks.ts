import { ConfigError } from "./config-error.ts";
import type { JobDefinition } from "./job-definition.ts";

/**
 * GitLab's logical checks (C yaml_processor.rb#validate_job!), once every entry is valid: for each
 * job its stage, its dependencies, its needs; then cycles of needs. The first problem is the error.
 */
export function checkJobs(jobs: readonly JobDefinition[], stages: readonly string[]): void {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const laterStage = (target: JobDefinition, job: JobDefinition) => stages.indexOf(target.stage) > stages.indexOf(job.stage);
  for (const job of jobs) {
    if (!stages.includes(job.stage)) {
      throw new ConfigError(
        `${job.name} job: chosen stage ${job.stage} does not exist; available stages are ${stages.join(", ")}`,
        job.position,
      );
    }
    // A dependency naming a parallel job means all of its instances.
    for (const name of job.dependencies ?? []) {
      const targets = jobs.filter((j) => j.name === name || j.parallel?.group === name);
      if (targets.length === 0) throw new ConfigError(`${job.name} job: undefined dependency: ${name}`, job.position);
      if (targets.some((t) => laterStage(t, job))) {
        throw new ConfigError(`${job.name} job: dependency ${name} is not defined in current or prior stages`, job.position);
      }
    }
    checkOnStop(job, byName);
    const names = (job.needs ?? []).map((n) => n.job);
    const duplicated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    if (duplicated.length > 0) throw new ConfigError(`${job.name} has the following needs duplicated: ${duplicated.join(", ")}.`, job.position);
    for (const need of job.needs ?? []) {
      const target = byName.get(need.job);
      if (!target) {
        if (need.optional) continue;
        throw new ConfigError(`${job.name} job: undefined need: ${need.job}`, job.position);
      }
      if (laterStage(target, job)) {
        throw new ConfigError(`${job.name} job: need ${need.job} is not defined in current or prior stages`, job.position);
      }
    }
  }
  checkCycles(jobs, byName);
}

/** `environment:on_stop` (C yaml_processor.rb#validate_job_environment!): a stop job of the same environment. */
function checkOnStop(job: JobDefinition, byName: ReadonlyMap<string, JobDefinition>): void {
  const name = job.environment?.onStop;
  if (name === undefined) return;
  const stop = byName.get(name);
  if (!stop) throw new ConfigError(`${job.name} job: on_stop job ${name} is not defined`, job.position);
  if (!stop.environment) throw new ConfigError(`${job.name} job: on_stop job ${name} does not have environment defined`, job.position);
  if (stop.environment.name !== job.environment!.name) {
    throw new ConfigError(`${job.name} job: on_stop job ${name} have different environment name`, job.position);
  }
  if (stop.environment.action !== "stop") throw new ConfigError(`${job.name} job: on_stop job ${name} needs to have action stop defined`, job.position);
}

/** C yaml_processor/dag.rb: a job needing itself, else a cycle found by the topological sort. */
function checkCycles(jobs: readonly JobDefinition[], byName: ReadonlyMap<string, JobDefinition>): void {
  for (const job of jobs) {
    if ((job.needs ?? []).some((n) => n.job === job.name)) {
      throw new ConfigError(`The pipeline has circular dependencies: self-dependency: ${job.name}`);
    }
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, path: readonly string[]) => {
    if (done.has(name)) return;
    if (visiting.has(name)) {
      const cycle = path.slice(path.indexOf(name), -1);
      throw new ConfigError(`The pipeline has circular dependencies: topological sort failed: [${cycle.map((c) => `"${c}"`).join(", ")}]`);
    }
    visiting.add(name);
    for (const need of byName.get(name)?.needs ?? []) if (byName.has(need.job)) visit(need.job, [...path, need.job]);
    visiting.delete(name);
    done.add(name);
  };
  for (const job of jobs) visit(job.name, [job.name]);
}
