import { checkJobs } from "./checks.ts";
import { ConfigError, ErrorCollector, type SourcePosition } from "./config-error.ts";
import { isHash, resolveExtends } from "./extends.ts";
import {
  DEFAULT_KEYWORDS, DEFAULT_STAGES, DEPRECATED_GLOBAL_DEFAULTS, GLOBAL_KEYWORDS, JOB_KEYWORDS, JOB_WHEN,
  type JobWhen,
} from "./keywords.ts";
import { resolveReferences } from "./references.ts";
import { resolveIncludes, type IncludeReader } from "./includes.ts";
import { interpolateInputs } from "./inputs.ts";
import { readEnvironment, type EnvironmentDefinition } from "./environment.ts";
import { readOnlyExcept, type OnlyExcept } from "./only-except.ts";
import { allowedExitCodes, readRetry, readStartIn, type RetryDefinition } from "./job-options.ts";
import { readImage, readServices } from "./image-entry.ts";
import { readArtifacts, readCaches, type ArtifactsDefinition, type CacheDefinition } from "./job-files.ts";
import { expandParallel, readParallel } from "./parallel.ts";
import { readRules, type Rule } from "./rules.ts";
import {
  readAllowFailure, readCoverage, readDependencies, readHooks, readSecrets, readNeeds, readResourceGroup, readScript, readTimeout, readVariables,
} from "./job-fields.ts";
import { noEffectWarnings } from "./no-effect.ts";
import type { YamlFile } from "./yaml-file.ts";
import type { Hook } from "../protocol/types.ts";

export type { JobDefinition, Need, PipelineDefinition, VariableDefinition } from "./job-definition.ts";
import type { JobDefinition, Need, PipelineDefinition } from "./job-definition.ts";

/** How a file is read: where its includes come from, and the pipeline's inputs (`--input`). */
export interface LoadOptions {
  readonly includes?: IncludeReader;
  readonly inputs?: Readonly<Record<string, unknown>>;
}

/**
 * Turns a parsed `.gitlab-ci.yml` into job definitions, in GitLab's order: `extends`, then
 * `!reference`, then validation with GitLab's messages and `default:` applied.
 */
export function readPipeline(file: YamlFile, options: LoadOptions = {}): PipelineDefinition {
  const { includes } = options;
  const at = (key?: string) => (key === undefined ? undefined : file.positionOf(key));
  if (file.value === null || file.value === undefined || file.value === "") {
    throw new ConfigError("Please provide content of .gitlab-ci.yml", { file: file.file, line: 1, column: 1 });
  }
  if (!isHash(file.value)) throw new ConfigError("Invalid configuration format", { file: file.file, line: 1, column: 1 });
  const config = mergedConfig(file, options);
  // Entry errors are all collected (GitLab's lint lists them); logical ones stop at the first.
  const errors = new ErrorCollector();
  const defaults = errors.attempt(() => readDefaults(config, at)) ?? {};
  const stages = errors.attempt(() => readStages(config.stages ?? config.types, at("stages"))) ?? readStages(undefined, undefined);
  const variables = errors.attempt(() => readVariables(config.variables, "variables", at("variables"), { global: true })) ?? [];
  const jobs: JobDefinition[] = [];
  for (const [name, value] of Object.entries(config)) {
    if (GLOBAL_KEYWORDS.has(name) || name.startsWith(".")) continue;
    errors.attempt(() => {
      const job = readJob(name, value, defaults, at(name));
      const parallel = isHash(value) && value.parallel !== undefined && value.parallel !== null
        ? readParallel(value.parallel, `jobs:${name.toLowerCase()}:parallel`, at(name))
        : undefined;
      jobs.push(...(parallel ? expandParallel(job, parallel) : [job]));
    });
  }
  const workflow = errors.attempt(() => readWorkflow(config.workflow, at("workflow")));
  if (jobs.length === 0 && !Object.keys(config).some((k) => !GLOBAL_KEYWORDS.has(k) && !k.startsWith("."))) {
    errors.add(new ConfigError("jobs config should contain at least one visible job"));
  }
  errors.throwIfAny();
  // A need naming a parallel job means every one of its instances.
  for (const [i, job] of jobs.entries()) {
    if (!job.needs) continue;
    const needs = job.needs.flatMap((need): Need[] => {
      const { instances: chosen, ...plain } = need;
      if (chosen) return chosen.map((name) => ({ ...plain, job: matrixExpressions(name, job) }));
      const instances = jobs.filter((j) => j.parallel?.group === need.job);
      return instances.length > 0 ? instances.map((j) => ({ ...need, job: j.name })) : [need];
    });
    jobs[i] = { ...job, needs };
  }
  checkJobs(jobs, stages);
  const warnings = noEffectWarnings(config);
  return {
    stages, variables, jobs, ...(workflow ? { workflow } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(includes && includes.sources.length > 0 ? { sources: [...includes.sources] } : {}),
  };
}

/** The configuration GitLab sees: includes merged, `extends` and `!reference` resolved (`--preview`). */
export function mergedConfig(file: YamlFile, options: LoadOptions = {}): Record<string, unknown> {
  const body = interpolateInputs(file, { given: options.inputs ?? {}, variables: options.includes?.context?.variables ?? {}, textual: true });
  if (!isHash(body)) throw new ConfigError("Invalid configuration format", { file: file.file, line: 1, column: 1 });
  const withIncludes = options.includes ? resolveIncludes(body, options.includes) : body;
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
  const given = checkJobShape(name, value, location, position);
  const inherit = readInherit(given.inherit, `${location}:inherit`, position);
  const job: Record<string, unknown> = { ...given };
  for (const key of DEFAULT_KEYWORDS) {
    // A key given as null is unspecified, and the default's applies (GitLab's Entry::Factory#create!).
    if ((job[key] === undefined || job[key] === null) && key in defaults && inherits(inherit.default, key)) job[key] = defaults[key];
  }
  if ("run" in job) throw new ConfigError(`${location}: run: jobs are not supported by local runs yet`, position);
  // Every entry error of the job is collected, as GitLab's lint lists them all.
  const errors = new ErrorCollector();
  const get = <T>(read: () => T): T | undefined => errors.attempt(read);
  const when = readWhen(job, location, position, errors);
  checkNeedsAndDependencies(job, location, position, errors);
  const stage = job.stage ?? "test";
  if (typeof stage !== "string") errors.add(new ConfigError(`${location}:stage config should be a string`, position));
  const script = readJobScript(job, location, position, errors);
  const definition: JobDefinition = {
    name,
    stage: typeof stage === "string" ? stage : "test",
    beforeScript: get(() => readScript(job.before_script, `${location}:before_script`, position)) ?? [],
    script,
    afterScript: get(() => readScript(job.after_script, `${location}:after_script`, position)) ?? [],
    variables: get(() => readVariables(job.variables, `${location}:variables`, position, { global: false })) ?? [],
    image: get(() => readImage(job.image, `${location}:image`, position)),
    ...optional("services", get(() => readServices(job.services, `${location}:services`, position))),
    ...optional("retry", get(() => readRetry(job.retry, position))),
    ...optional("startInSeconds", get(() => readStartIn(job.start_in, when === "delayed", location, position))),
    ...optional("allowFailureExitCodes", get(() => allowedExitCodes(job.allow_failure, location, position))),
    ...optional("resourceGroup", get(() => readResourceGroup(job.resource_group, location, position))),
    ...optional("environment", get(() => readEnvironment(job.environment, `${location}:environment`, position))),
    ...optional("coverage", get(() => readCoverage(job.coverage, `${location}:coverage`, position))),
    ...optional("hooks", get(() => readHooks(job.hooks, `${location}:hooks`, position))),
    ...optional("secrets", get(() => readSecrets(job.secrets, `${location}:secrets`, position))),
    ...optional("only", get(() => readOnlyExcept(job.only, `${location}:only`, position))),
    ...optional("except", get(() => readOnlyExcept(job.except, `${location}:except`, position))),
    when,
    allowFailure: get(() => readAllowFailure(job.allow_failure, when === "manual", `${location}:allow_failure`, position)) ?? false,
    timeoutSeconds: get(() => readTimeout(job.timeout, `${location}:timeout`, position)) ?? 3600,
    ...optional("rules", job.rules !== undefined ? get(() => readRules(job.rules, `${location}:rules`, position, "job")) : undefined),
    ...optional("needs", job.needs !== undefined && job.needs !== null ? get(() => readNeeds(job.needs, `${location}:needs`, position)) : undefined),
    ...optional("artifacts", get(() => readArtifacts(job.artifacts, `${location}:artifacts`, position))),
    ...optional("cache", get(() => readCaches(job.cache, `${location}:cache`, position))),
    ...optional("dependencies", get(() => readDependencies(job.dependencies, `${location}:dependencies`, position))),
    ...(inherit.variables === true ? {} : { inheritVariables: inherit.variables === false ? [] : inherit.variables }),
    ...("trigger" in job ? { trigger: true as const } : {}),
    position,
  };
  errors.throwIfAny();
  return definition;
}

/** A job is a hash with `script:` (or `run:`, `trigger:`), known keys, and no `only`/`except`/`start_in` beside `rules`. */
function checkJobShape(name: string, value: unknown, location: string, position: SourcePosition | undefined): Record<string, unknown> {
  if (name.trim() === "") throw new ConfigError("jobs config should contain valid jobs: a job name can't be blank", position);
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
  return value;
}

function readWhen(job: Record<string, unknown>, location: string, position: SourcePosition | undefined, errors: ErrorCollector): JobWhen {
  const raw = job.when ?? "on_success";
  if (JOB_WHEN.includes(raw as JobWhen)) return raw as JobWhen;
  errors.add(new ConfigError(`${location} when should be one of: ${JOB_WHEN.join(", ")}`, position));
  return "on_success";
}

/** `dependencies:` must be part of `needs:` when both are given; `needs: []` with `dependencies:` is allowed (the job then receives nothing). */
function checkNeedsAndDependencies(job: Record<string, unknown>, location: string, position: SourcePosition | undefined, errors: ErrorCollector): void {
  if (!Array.isArray(job.needs) || job.needs.length === 0 || !Array.isArray(job.dependencies)) return;
  const needed = job.needs.flat(10).map((n) => (isHash(n) ? n.job : n));
  const missing = job.dependencies.filter((d) => !needed.includes(d));
  if (missing.length > 0) errors.add(new ConfigError(`${location} dependencies the ${missing.join(", ")} should be part of needs`, position));
}

/** `script:`; `[]` or `''` has nothing to run (GitLab: `script can't be blank`). */
function readJobScript(job: Record<string, unknown>, location: string, position: SourcePosition | undefined, errors: ErrorCollector): readonly string[] {
  const read = errors.attempt(() => readScript(job.script, `${location}:script`, position));
  const script = read ?? [];
  const blank = (Array.isArray(job.script) && script.length === 0) || (typeof job.script === "string" && job.script.trim() === "");
  if (read !== undefined && !("trigger" in job) && blank) errors.add(new ConfigError(`${location} script can't be blank`, position));
  return script;
}

/**
 * `needs:parallel:matrix` with `$[[ matrix.KEY ]]` (GitLab's matrix expressions): the needing job's
 * own matrix value of KEY, so that each instance needs its counterpart.
 */
function matrixExpressions(name: string, job: JobDefinition): string {
  return name.replace(/\$\[\[\s*matrix\.([A-Za-z0-9_]+)\s*\]\]/g, (block, key: string) => {
    const value = job.parallel?.matrix?.[key];
    if (value === undefined) {
      throw new ConfigError(`${job.name} job: matrix expression ${block} has no value: the job has no parallel:matrix key ${key}`, job.position);
    }
    return value;
  });
}

/** `inherit:default` / `inherit:variables`: true (all), false (none) or the names inherited. */
interface Inherit {
  readonly default: boolean | readonly string[];
  readonly variables: boolean | readonly string[];
}

function readInherit(value: unknown, location: string, position?: SourcePosition): Inherit {
  if (value === undefined || value === null) return { default: true, variables: true };
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash`, position);
  const unknown = Object.keys(value).filter((k) => k !== "default" && k !== "variables");
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  const read = (entry: unknown, key: string): boolean | string[] => {
    if (entry === undefined || entry === null) return true;
    if (typeof entry === "boolean") return entry;
    if (Array.isArray(entry) && entry.every((e) => typeof e === "string")) return entry;
    throw new ConfigError(`${location}:${key} config should be a boolean value or an array of strings`, position);
  };
  return { default: read(value.default, "default"), variables: read(value.variables, "variables") };
}

function inherits(rule: boolean | readonly string[], name: string): boolean {
  return typeof rule === "boolean" ? rule : rule.includes(name);
}

/** The global variables a job receives (`inherit:variables`). */
export function inheritedGlobals<V extends { readonly key: string }>(job: JobDefinition, globals: readonly V[]): readonly V[] {
  const names = job.inheritVariables;
  return names ? globals.filter((v) => names.includes(v.key)) : globals;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function readWorkflow(value: unknown, position?: SourcePosition): PipelineDefinition["workflow"] {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) throw new ConfigError("workflow config should be a hash", position);
  const failFast = readAutoCancel(value.auto_cancel, position);
  return {
    ...(value.rules !== undefined ? { rules: readRules(value.rules, "workflow:rules", position, "workflow") } : {}),
    ...(typeof value.name === "string" ? { name: value.name } : {}),
    ...(failFast ? { cancelOnJobFailure: true as const } : {}),
  };
}

/** `workflow:auto_cancel`: whether `on_job_failure: all` asks a failure to cancel the rest of the run. */
function readAutoCancel(value: unknown, position?: SourcePosition): boolean {
  if (value === undefined || value === null) return false;
  if (!isHash(value)) throw new ConfigError("workflow:auto_cancel config should be a hash", position);
  const unknown = Object.keys(value).filter((k) => k !== "on_new_commit" && k !== "on_job_failure");
  if (unknown.length > 0) throw new ConfigError(`workflow:auto_cancel config contains unknown keys: ${unknown.join(", ")}`, position);
  const check = (key: string, allowed: readonly string[]) => {
    if (value[key] !== undefined && !allowed.includes(String(value[key]))) {
      throw new ConfigError(`workflow:auto_cancel ${key.replaceAll("_", " ")} must be one of: ${allowed.join(", ")}`, position);
    }
  };
  check("on_new_commit", ["conservative", "interruptible", "none"]);
  check("on_job_failure", ["none", "all"]);
  return value.on_job_failure === "all";
}

