import type { JobDefinition } from "../pipeline/definitions.ts";

/** The executors `runner exec` runs jobs on. */
export type LocalExecutorName = "shell" | "ssh" | "docker" | "custom";

/** The executor one job of `runner exec` runs on, and why: said in one line before the run. */
export interface ExecutorChoice {
  readonly executor: LocalExecutorName;
  readonly why: string;
}

/** Whether a Docker engine answered `GET /_ping`, and where it was asked. */
export interface DockerEngineProbe {
  readonly where: string;
  readonly answers: boolean;
  /** Why it did not answer (the connection's error). */
  readonly failure?: string;
}

export interface ChoiceOptions {
  /** `--executor`: every job runs there. */
  readonly forced?: LocalExecutorName;
  /** `--docker-image`: the image of jobs that name none. */
  readonly defaultImage?: string;
  /** Asked only when some job has an image and no executor is forced. */
  readonly engine?: DockerEngineProbe;
}

/** Whether choosing needs the Docker engine asked: some job has an image and nothing is forced. */
export function needsEngineProbe(jobs: readonly JobDefinition[], options: Omit<ChoiceOptions, "engine">): boolean {
  return options.forced === undefined && jobs.some((job) => imageOf(job, options.defaultImage) !== undefined);
}

/**
 * Each job's executor, as a GitLab user reads `image:` (and gitlab-ci-local runs it): a job with an
 * image (its own, `default:`'s or `--docker-image`) runs in that container when a Docker engine
 * answers, the others on the shell; `--executor` decides for all.
 */
export function chooseExecutors(jobs: readonly JobDefinition[], options: ChoiceOptions): Map<string, ExecutorChoice> {
  const choices = new Map<string, ExecutorChoice>();
  for (const job of jobs) choices.set(job.name, chooseOne(job, options));
  return choices;
}

function chooseOne(job: JobDefinition, options: ChoiceOptions): ExecutorChoice {
  if (options.forced) return { executor: options.forced, why: `--executor ${options.forced}` };
  if (imageOf(job, options.defaultImage) === undefined) return { executor: "shell", why: "no image" };
  const engine = options.engine;
  if (engine?.answers) return { executor: "docker", why: `an image, and the Docker engine at ${engine.where} answers` };
  const where = engine ? ` at ${engine.where}${engine.failure ? `: ${engine.failure}` : ""}` : "";
  return { executor: "shell", why: `an image, but no Docker engine answers${where}; --executor docker insists` };
}

function imageOf(job: JobDefinition, defaultImage: string | undefined): string | undefined {
  return job.image?.name ?? defaultImage;
}

/**
 * The one line before a run: the executors and why, jobs grouped by choice, three names a group
 * (`Executors: docker for build, test (…); shell for lint (no image)`).
 */
export function describeChoices(jobs: readonly JobDefinition[], choices: ReadonlyMap<string, ExecutorChoice>): string {
  const groups = new Map<string, { choice: ExecutorChoice; names: string[] }>();
  for (const job of jobs) {
    const choice = choices.get(job.name);
    if (!choice) continue;
    const key = `${choice.executor}\n${choice.why}`;
    const group = groups.get(key) ?? { choice, names: [] };
    group.names.push(job.name);
    groups.set(key, group);
  }
  const parts = [...groups.values()].map(({ choice, names }) => `${choice.executor} for ${namesOf(names, jobs.length)} (${choice.why})`);
  return `${groups.size === 1 && jobs.length === 1 ? "Executor" : "Executors"}: ${parts.join("; ")}`;
}

function namesOf(names: readonly string[], total: number): string {
  if (names.length === total && total > 3) return `all ${total} jobs`;
  return names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ");
}
