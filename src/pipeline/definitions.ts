import { ConfigError, type SourcePosition } from "./config-error.ts";
import { parseDuration } from "./duration.ts";
import { isHash, resolveExtends } from "./extends.ts";
import {
  DEFAULT_KEYWORDS, DEFAULT_STAGES, DEPRECATED_GLOBAL_DEFAULTS, GLOBAL_KEYWORDS, JOB_KEYWORDS, JOB_WHEN,
  type JobWhen,
} from "./keywords.ts";
import { resolveReferences } from "./references.ts";
import { resolveIncludes, type IncludeReader } from "./includes.ts";
import { readOnlyExcept, type OnlyExcept } from "./only-except.ts";
import { allowedExitCodes, readRetry, readServices, readStartIn, type RetryDefinition, type ServiceDefinition } from "./job-options.ts";
import { readArtifacts, readCaches, type ArtifactsDefinition, type CacheDefinition } from "./job-files.ts";
import { expandParallel, readParallel } from "./parallel.ts";
import { readRules, type Rule } from "./rules.ts";
import { RubyFloat, rubyString } from "./ruby-scalars.ts";
import type { YamlFile } from "./yaml-file.ts";

/** A variable as written in `.gitlab-ci.yml`. */
export interface VariableDefinition {
  readonly key: string;
  readonly value: string;
  /** `expand: false` */
  readonly raw: boolean;
}

/** One job of the file, with `default:` applied and `extends` resolved. */
export interface JobDefinition {
  readonly name: string;
  readonly stage: string;
  readonly beforeScript: readonly string[];
  readonly script: readonly string[];
  readonly afterScript: readonly string[];
  readonly variables: readonly VariableDefinition[];
  readonly image?: { readonly name: string; readonly entrypoint?: readonly string[] };
  /** `start_in` of a `when: delayed` job, in seconds. */
  readonly startInSeconds?: number;
  /** `allow_failure: exit_codes`: a failure with one of these exit codes is allowed. */
  readonly allowFailureExitCodes?: readonly number[];
  /** `resource_group:`: jobs of the same group never run at the same time. */
  readonly resourceGroup?: string;
  /** Legacy `only:` / `except:` (never with `rules`). */
  readonly only?: OnlyExcept;
  readonly except?: OnlyExcept;
  /** `retry:`: how many more attempts a failed job gets, and for which failures. */
  readonly retry?: RetryDefinition;
  /** `services:` (run by the Docker executor). */
  readonly services?: readonly ServiceDefinition[];
  readonly when: JobWhen;
  readonly allowFailure: boolean;
  readonly timeoutSeconds?: number;
  readonly rules?: readonly Rule[];
  /** `needs:`; undefined means the job waits for every job of the earlier stages. */
  readonly needs?: readonly Need[];
  readonly artifacts?: ArtifactsDefinition;
  readonly cache?: readonly CacheDefinition[];
  /** `dependencies:`; undefined means every job of the earlier stages (or the needs). */
  readonly dependencies?: readonly string[];
  /** For an instance of a `parallel` job: its number, how many there are, and the job's own name. */
  readonly parallel?: { readonly index: number; readonly total: number; readonly group: string };
  readonly position?: SourcePosition;
}

/** One entry of `needs:`. */
export interface Need {
  readonly job: string;
  readonly optional: boolean;
  readonly artifacts: boolean;
}

/** The whole file: its stages in order (`.pre` first, `.post` last), global variables and jobs. */
export interface PipelineDefinition {
  readonly stages: readonly string[];
  readonly variables: readonly VariableDefinition[];
  readonly jobs: readonly JobDefinition[];
  readonly workflow?: { readonly rules?: readonly Rule[]; readonly name?: string };
  /** The included files the definition was made from, with the hashes of their texts. */
  readonly sources?: readonly { readonly path: string; readonly hash: string }[];
}

/**
 * Turns a parsed `.gitlab-ci.yml` into job definitions, in GitLab's order: `extends`, then
 * `!reference`, then validation with GitLab's messages and `default:` applied.
 */
export function readPipeline(file: YamlFile, includes?: IncludeReader): PipelineDefinition {
  const at = (key?: string) => (key === undefined ? undefined : file.positionOf(key));
  if (file.value === null || file.value === undefined || file.value === "") {
    throw new ConfigError("Please provide content of .gitlab-ci.yml", { file: file.file, line: 1, column: 1 });
  }
  if (!isHash(file.value)) throw new ConfigError("Invalid configuration format", { file: file.file, line: 1, column: 1 });
  const config = mergedConfig(file, includes);
  const defaults = readDefaults(config, at);
  const stages = readStages(config.stages ?? config.types, at("stages"));
  const variables = readVariables(config.variables, "variables", at("variables"), { global: true });
  const jobs: JobDefinition[] = [];
  for (const [name, value] of Object.entries(config)) {
    if (GLOBAL_KEYWORDS.has(name) || name.startsWith(".")) continue;
    const job = readJob(name, value, defaults, at(name));
    const parallel = isHash(value) && value.parallel !== undefined && value.parallel !== null
      ? readParallel(value.parallel, `jobs:${name.toLowerCase()}:parallel`, at(name))
      : undefined;
    jobs.push(...(parallel ? expandParallel(job, parallel) : [job]));
  }
  // A need (or dependency) naming a parallel job means every one of its instances.
  for (const [i, job] of jobs.entries()) {
    if (!job.needs) continue;
    const needs = job.needs.flatMap((need) => {
      const instances = jobs.filter((j) => j.parallel?.group === need.job);
      return instances.length > 0 ? instances.map((j) => ({ ...need, job: j.name })) : [need];
    });
    jobs[i] = { ...job, needs };
  }
  if (jobs.length === 0) throw new ConfigError("jobs config should contain at least one visible job");
  for (const job of jobs) {
    if (!stages.includes(job.stage)) {
      throw new ConfigError(
        `${job.name} job: chosen stage ${job.stage} does not exist; available stages are ${stages.join(", ")}`,
        job.position,
      );
    }
  }
  checkNeeds(jobs, stages);
  const workflow = readWorkflow(config.workflow, at("workflow"));
  return {
    stages, variables, jobs, ...(workflow ? { workflow } : {}),
    ...(includes && includes.sources.length > 0 ? { sources: [...includes.sources] } : {}),
  };
}

/** The configuration GitLab sees: includes merged, `extends` and `!reference` resolved (`--preview`). */
export function mergedConfig(file: YamlFile, includes?: IncludeReader): Record<string, unknown> {
  if (!isHash(file.value)) throw new ConfigError("Invalid configuration format", { file: file.file, line: 1, column: 1 });
  const withIncludes = includes ? resolveIncludes(file.value, includes) : file.value;
  return resolveReferences(resolveExtends(withIncludes));
}

type Position = (key?: string) => SourcePosition | undefined;

function readDefaults(config: Record<string, unknown>, at: Position): Record<string, unknown> {
  const block = config.default ?? {};
  if (!isHash(block)) throw new ConfigError("default config should be a hash", at("default"));
  const unknown = Object.keys(block).filter((k) => !DEFAULT_KEYWORDS.includes(k));
  if (unknown.length > 0) throw new ConfigError(`default config contains unknown keys: ${unknown.join(", ")}`, at("default"));
  const defaults: Record<string, unknown> = { ...block };
  for (const key of DEPRECATED_GLOBAL_DEFAULTS) {
    if (!(key in config)) continue;
    if (key in block) throw new ConfigError(`${key} is defined in top-level and \`default:\` entry`, at(key));
    defaults[key] = config[key];
  }
  return defaults;
}

function readStages(value: unknown, position: SourcePosition | undefined): string[] {
  if (value === undefined || value === null) return [".pre", ...DEFAULT_STAGES, ".post"];
  const flat = Array.isArray(value) ? value.flat(10) : undefined;
  if (!flat || !flat.every((s) => typeof s === "string")) {
    throw new ConfigError("stages config should be an array of strings", position);
  }
  return [".pre", ...flat.filter((s) => s !== ".pre" && s !== ".post"), ".post"];
}

function readJob(name: string, value: unknown, defaults: Record<string, unknown>, position?: SourcePosition): JobDefinition {
  const location = `jobs:${name.toLowerCase()}`;
  if (!isHash(value) || !("script" in value || "run" in value || "trigger" in value)) {
    throw new ConfigError(
      `jobs ${name.replaceAll(" ", "_").toLowerCase()} config should implement the script:, run:, or trigger: keyword`,
      position,
    );
  }
  const unknown = Object.keys(value).filter((k) => !JOB_KEYWORDS.has(k));
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  const exclusive = ["only", "except", "start_in"].filter((k) => k in value);
  if ("rules" in value && exclusive.length > 0) {
    throw new ConfigError(`${location} config key may not be used with \`rules\`: ${exclusive.join(", ")}`, position);
  }
  const job: Record<string, unknown> = { ...value };
  for (const key of DEFAULT_KEYWORDS) if (!(key in job) && key in defaults) job[key] = defaults[key];
  if ("run" in job || "trigger" in job) {
    throw new ConfigError(`${location}: ${"run" in job ? "run:" : "trigger:"} jobs are not supported by local runs yet`, position);
  }
  const when = job.when ?? "on_success";
  if (!JOB_WHEN.includes(when as JobWhen)) {
    throw new ConfigError(`${location} when should be one of: ${JOB_WHEN.join(", ")}`, position);
  }
  const stage = job.stage ?? "test";
  if (typeof stage !== "string") throw new ConfigError(`${location}:stage config should be a string`, position);
  return {
    name,
    stage,
    beforeScript: readScript(job.before_script, `${location}:before_script`, position),
    script: readScript(job.script, `${location}:script`, position),
    afterScript: readScript(job.after_script, `${location}:after_script`, position),
    variables: readVariables(job.variables, `${location}:variables`, position, { global: false }),
    image: readImage(job.image, `${location}:image`, position),
    ...optional("services", readServices(job.services, `${location}:services`, position)),
    ...optional("retry", readRetry(job.retry, position)),
    ...optional("startInSeconds", readStartIn(job.start_in, when === "delayed", location, position)),
    ...optional("allowFailureExitCodes", allowedExitCodes(job.allow_failure)),
    ...optional("resourceGroup", typeof job.resource_group === "string" && job.resource_group !== "" ? job.resource_group : undefined),
    ...optional("only", readOnlyExcept(job.only, `${location}:only`, position)),
    ...optional("except", readOnlyExcept(job.except, `${location}:except`, position)),
    when: when as JobWhen,
    allowFailure: readAllowFailure(job.allow_failure, when === "manual", `${location}:allow_failure`, position),
    timeoutSeconds: readTimeout(job.timeout, `${location}:timeout`, position),
    ...(job.rules !== undefined ? { rules: readRules(job.rules, `${location}:rules`, position, "job") } : {}),
    ...(job.needs !== undefined && job.needs !== null ? { needs: readNeeds(job.needs, `${location}:needs`, position) } : {}),
    ...optional("artifacts", readArtifacts(job.artifacts, `${location}:artifacts`, position)),
    ...optional("cache", readCaches(job.cache, `${location}:cache`, position)),
    ...(Array.isArray(job.dependencies) ? { dependencies: job.dependencies.map(String) } : {}),
    position,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function readNeeds(value: unknown, location: string, position?: SourcePosition): Need[] {
  const list = Array.isArray(value) ? value.flat(10) : undefined;
  if (!list) throw new ConfigError(`${location} config should be an array`, position);
  return list.map((entry) => {
    if (typeof entry === "string") return { job: entry, optional: false, artifacts: true };
    if (isHash(entry) && typeof entry.job === "string") {
      return { job: entry.job, optional: entry.optional === true, artifacts: entry.artifacts !== false };
    }
    throw new ConfigError(`${location} config should be a string or a hash with a job`, position);
  });
}

function readWorkflow(value: unknown, position?: SourcePosition): PipelineDefinition["workflow"] {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) throw new ConfigError("workflow config should be a hash", position);
  return {
    ...(value.rules !== undefined ? { rules: readRules(value.rules, "workflow:rules", position, "workflow") } : {}),
    ...(typeof value.name === "string" ? { name: value.name } : {}),
  };
}

/** GitLab's logical checks of `needs` (C yaml_processor.rb): the first problem found is the error. */
function checkNeeds(jobs: readonly JobDefinition[], stages: readonly string[]): void {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  for (const job of jobs) {
    const names = (job.needs ?? []).map((n) => n.job);
    const duplicated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    if (duplicated.length > 0) throw new ConfigError(`${job.name} has the following needs duplicated: ${duplicated.join(", ")}.`, job.position);
    for (const need of job.needs ?? []) {
      const target = byName.get(need.job);
      if (!target) {
        if (need.optional) continue;
        throw new ConfigError(`${job.name} job: undefined need: ${need.job}`, job.position);
      }
      if (stages.indexOf(target.stage) > stages.indexOf(job.stage)) {
        throw new ConfigError(`${job.name} job: need ${need.job} is not defined in current or prior stages`, job.position);
      }
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
  for (const job of jobs) {
    if ((job.needs ?? []).some((n) => n.job === job.name)) {
      throw new ConfigError(`The pipeline has circular dependencies: self-dependency: ${job.name}`);
    }
  }
  for (const job of jobs) visit(job.name, [job.name]);
}

function readScript(value: unknown, location: string, position?: SourcePosition): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  const flat = Array.isArray(value) ? value.flat(10) : undefined;
  if (!flat || !flat.every((line) => typeof line === "string")) {
    throw new ConfigError(`${location} config should be a string or a nested array of strings up to 10 levels deep`, position);
  }
  return flat as string[];
}

function readVariables(
  value: unknown,
  location: string,
  position: SourcePosition | undefined,
  options: { global: boolean },
): VariableDefinition[] {
  if (value === undefined || value === null) return [];
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash of key value pairs`, position);
  const allowed = options.global ? ["value", "description", "options", "expand"] : ["value", "expand"];
  return Object.entries(value).map(([key, definition]) => {
    if (isHash(definition)) {
      const invalid = Object.keys(definition).filter((k) => !allowed.includes(k));
      if (invalid.length > 0) throw new ConfigError(`${location} uses invalid data keys: ${invalid.join(", ")}`, position);
      const raw = definition.expand === false;
      const text = definition.value === undefined || definition.value === null ? "" : rubyString(definition.value);
      if (Array.isArray(definition.options) && !definition.options.map(rubyString).includes(text)) {
        throw new ConfigError(`${location} value must be present in options`, position);
      }
      return { key, value: text, raw };
    }
    if (definition === null || (typeof definition === "object" && !(definition instanceof RubyFloat))) {
      throw new ConfigError(`${location} variable definition must be either a string or a hash`, position);
    }
    return { key, value: rubyString(definition), raw: false };
  });
}

function readImage(value: unknown, location: string, position?: SourcePosition): JobDefinition["image"] {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return { name: value };
  if (isHash(value) && typeof value.name === "string") {
    const entrypoint = Array.isArray(value.entrypoint) ? value.entrypoint.map(String) : undefined;
    return entrypoint ? { name: value.name, entrypoint } : { name: value.name };
  }
  throw new ConfigError(`${location} config should be a hash or a string`, position);
}

function readAllowFailure(value: unknown, manual: boolean, location: string, position?: SourcePosition): boolean {
  if (value === undefined || value === null) return manual;
  if (typeof value === "boolean") return value;
  if (isHash(value) && "exit_codes" in value) return false;
  throw new ConfigError(`${location} config should be a hash or a boolean value`, position);
}

function readTimeout(value: unknown, location: string, position?: SourcePosition): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = parseDuration(rubyString(value));
  if (seconds === undefined) throw new ConfigError(`${location} config should be a duration`, position);
  return seconds;
}
