import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { ConfigError, ConfigErrorList } from "../../src/pipeline/config-error.ts";
import { readPipeline, type PipelineDefinition, type VariableDefinition } from "../../src/pipeline/definitions.ts";
import type { GitFacts } from "../../src/pipeline/git-facts.ts";
import type { IncludeReader } from "../../src/pipeline/includes.ts";
import { toJobPayload } from "../../src/pipeline/payload.ts";
import { planRun, type Plan } from "../../src/pipeline/plan.ts";
import { localProject } from "../../src/pipeline/predefined.ts";
import { pipelineName, ruleVariables } from "../../src/pipeline/rule-variables.ts";
import { parseYamlFile } from "../../src/pipeline/yaml-file.ts";
import { chooseExecutors } from "../../src/cli/executor-choice.ts";
import { expandContainerNames } from "../../src/job/container-names.ts";

/**
 * The conformance suite: each case in conformance/*.yml is a small `.gitlab-ci.yml` with what GitLab
 * makes of it — the error in GitLab's words, or the plan (jobs in order, stages, when, needs, what is
 * left out and why, the variables each job receives). Cases with `run: true` go through the compiled
 * binary and check each job's status and the pipeline's.
 */
interface Case {
  name: string;
  ci: string;
  /** Other files of the project (`include:local`). */
  files?: Record<string, string>;
  /** The include map: other projects' files, local copies of remote files, GitLab's templates. */
  projects?: Record<string, Record<string, string>>;
  remote?: Record<string, string>;
  templates?: Record<string, string>;
  /** The pushed ref: a branch (default `main`) or `tag: v1`. */
  ref?: string;
  tag?: string;
  /** Variables as if set by the pipeline (`--variable`); they also override predefined ones in rules. */
  variables?: Record<string, string>;
  project_variables?: Record<string, string>;
  inputs?: Record<string, unknown>;
  /** Changed files for `changes:` (absent: no diff); tracked files for `exists:`. */
  changed?: string[];
  tracked?: string[];
  select?: { jobs?: string[]; manual?: string[]; needs?: boolean };
  run?: boolean;
  expect: Expectation;
}

interface Expectation {
  error?: string;
  errors?: string[];
  /** `line:column` of the error. */
  at?: string;
  jobs?: string[];
  stages?: Record<string, string>;
  when?: Record<string, string>;
  allow_failure?: Record<string, boolean>;
  after?: Record<string, string[]>;
  excluded?: Record<string, string>;
  variables?: Record<string, Record<string, string | null>>;
  script?: Record<string, string[]>;
  warnings?: string[];
  retry?: Record<string, unknown>;
  timeout?: Record<string, number>;
  image?: Record<string, string | null>;
  /** The executor each job gets from `runner exec` with no --executor, a Docker engine answering. */
  executors?: Record<string, string>;
  /** The image and services (`name as alias`) each job's container is made from: names expanded as GitLab Runner does. */
  container_images?: Record<string, string | null>;
  services?: Record<string, string[]>;
  /** The payload's `image` and `services` as a coordinator would send them (lib/api/entities/ci/job_request/image.rb). */
  payload_images?: Record<string, { image: unknown; services: unknown[] }>;
  cache_keys?: Record<string, string[]>;
  dependencies?: Record<string, string[]>;
  /** run: true */
  statuses?: Record<string, string>;
  pipeline?: string;
  exit?: number;
  output?: string[];
  /** Each job's coverage in the run's summary.json. */
  coverage?: Record<string, number | null>;
  /** Text that must not appear in the output (masked secrets). */
  absent?: string[];
}

const DIR = resolve(import.meta.dir, "conformance");
const BINARY = resolve(import.meta.dir, "../../dist/runner");

function gitFacts(c: Case): GitFacts {
  return {
    root: "/work/example", isRepository: true, sha: "a".repeat(40), ref: c.tag ?? c.ref ?? "main",
    refType: c.tag ? "tag" : "branch", message: "A commit\n\nwith a body", authorName: "Ada", authorEmail: "ada@example.com",
    timestamp: "2026-01-01T00:00:00+00:00", remoteUrl: "https://gitlab.example.com/group/example.git", defaultBranch: "main",
  };
}

function memoryFiles(files: Record<string, string>, prefix = "") {
  return {
    read: (path: string) => files[path],
    glob: (pattern: string) => Object.keys(files).filter((path) => new Bun.Glob(pattern).match(path)).sort(),
    source: (path: string) => `${prefix}${path}`,
  };
}

function reader(c: Case): IncludeReader {
  const copy = (table: Record<string, string> | undefined, key: string) => (table && key in table ? { text: table[key], source: key } : undefined);
  return {
    ...memoryFiles(c.files ?? {}),
    parse: parseYamlFile,
    sources: [],
    map: {
      project: (name) => (c.projects?.[name] ? memoryFiles(c.projects[name], `${name}:`) : undefined),
      remote: (url) => copy(c.remote, url),
      template: (name) => copy(c.templates, name),
    },
  };
}

const assignments = (record: Record<string, string> = {}): VariableDefinition[] =>
  Object.entries(record).map(([key, value]) => ({ key, value: String(value), raw: false }));

function load(c: Case): { pipeline: PipelineDefinition; plan: Plan } {
  const git = gitFacts(c);
  const sources = {
    git, project: localProject(git), pipeline: { id: 7, createdAt: "2026-01-01T00:00:00Z", configPath: ".gitlab-ci.yml" },
    globals: [] as VariableDefinition[], projectVariables: assignments(c.project_variables), pipelineVariables: assignments(c.variables),
  };
  const files = { changedFiles: () => c.changed, trackedFiles: () => c.tracked ?? Object.keys(c.files ?? {}) };
  const includes = { ...reader(c), context: { ...files, variables: ruleVariables(sources, undefined, []) } };
  const pipeline = readPipeline(parseYamlFile(".gitlab-ci.yml", c.ci), { includes, inputs: c.inputs ?? {} });
  const withGlobals = { ...sources, globals: pipeline.variables };
  const plan = planRun(pipeline, {
    jobs: c.select?.jobs ?? [], manual: c.select?.manual ?? [], withNeeds: c.select?.needs === true,
    context: { ...files, ruleVariables: (job, workflow) => ruleVariables(withGlobals, job, workflow) },
  });
  return { pipeline, plan };
}

function checkPlan(c: Case): void {
  const e = c.expect;
  if (e.error !== undefined || e.errors !== undefined || e.at !== undefined) {
    let caught: unknown;
    try {
      // Some errors (a variable cycle) come when a job's variables are made, as in GitLab's seeding.
      const { pipeline, plan } = load(c);
      for (const p of plan.jobs) payloadOf(c, pipeline, plan, p.job.name);
    } catch (error) {
      caught = error;
    }
    if (!(caught instanceof ConfigError)) throw new Error(`expected a configuration error, got ${caught === undefined ? "a valid pipeline" : String(caught)}`);
    const messages = caught instanceof ConfigErrorList ? caught.errors.map((x) => x.message) : [caught.message];
    if (e.error !== undefined) expect(messages[0]).toBe(e.error);
    if (e.errors !== undefined) expect(messages).toEqual(e.errors);
    if (e.at !== undefined) expect(caught.position ? `${caught.position.line}:${caught.position.column}` : undefined).toBe(e.at);
    return;
  }
  const { pipeline, plan } = load(c);
  const planned = new Map(plan.jobs.map((p) => [p.job.name, p]));
  const job = (name: string) => {
    const p = planned.get(name);
    if (!p) throw new Error(`job "${name}" is not in the plan; it has: ${[...planned.keys()].join(", ")}`);
    return p.job;
  };
  const pick = (record: Record<string, unknown> | undefined, read: (name: string) => unknown): Record<string, unknown> | undefined =>
    record ? Object.fromEntries(Object.keys(record).map((name) => [name, read(name)])) : undefined;
  if (e.jobs) expect(plan.jobs.map((p) => p.job.name)).toEqual(e.jobs);
  if (e.stages) expect(pick(e.stages, (n) => job(n).stage)).toEqual(e.stages);
  if (e.when) expect(pick(e.when, (n) => job(n).when)).toEqual(e.when);
  if (e.allow_failure) expect(pick(e.allow_failure, (n) => job(n).allowFailure)).toEqual(e.allow_failure);
  if (e.after) expect(pick(e.after, (n) => [...planned.get(n)!.after])).toEqual(e.after);
  if (e.excluded) expect(Object.fromEntries(plan.excluded.map((x) => [x.job, x.reason]))).toEqual(e.excluded);
  if (e.script) expect(pick(e.script, (n) => [...job(n).beforeScript, ...job(n).script, ...job(n).afterScript])).toEqual(e.script);
  if (e.warnings) expect(pipeline.warnings ?? []).toEqual(e.warnings);
  if (e.retry) expect(pick(e.retry, (n) => job(n).retry ?? null)).toEqual(e.retry);
  if (e.timeout) expect(pick(e.timeout, (n) => job(n).timeoutSeconds)).toEqual(e.timeout);
  if (e.image) expect(pick(e.image, (n) => job(n).image?.name ?? null)).toEqual(e.image);
  if (e.executors) {
    const choices = chooseExecutors(plan.jobs.map((p) => p.job), { engine: { where: "unix:///var/run/docker.sock", answers: true } });
    expect(pick(e.executors, (n) => choices.get(n)?.executor)).toEqual(e.executors);
  }
  if (e.dependencies) expect(pick(e.dependencies, (n) => job(n).dependencies ?? null)).toEqual(e.dependencies);
  const payload = (name: string) => payloadOf(c, pipeline, plan, name);
  if (e.variables) {
    for (const [name, expected] of Object.entries(e.variables)) {
      const vars = new Map(payload(name).variables.map((v) => [v.key, v.value]));
      expect(Object.fromEntries(Object.keys(expected).map((k) => [k, vars.get(k) ?? null]))).toEqual(expected);
    }
  }
  if (e.container_images) expect(pick(e.container_images, (n) => expandContainerNames(payload(n)).image?.name ?? null)).toEqual(e.container_images);
  if (e.services) expect(pick(e.services, (n) => (expandContainerNames(payload(n)).services ?? []).map((x) => x.alias ? `${x.name} as ${x.alias}` : x.name))).toEqual(e.services);
  if (e.payload_images) expect(pick(e.payload_images, (n) => ({ image: payload(n).image, services: payload(n).services ?? [] }))).toEqual(e.payload_images);
  if (e.cache_keys) expect(pick(e.cache_keys, (n) => (payload(n).cache ?? []).map((x) => x.key))).toEqual(e.cache_keys);
}

/** The job as GitLab would send it, made from the case's context. */
function payloadOf(c: Case, pipeline: PipelineDefinition, plan: Plan, name: string) {
  const git = gitFacts(c);
  const job = plan.jobs.find((p) => p.job.name === name)!.job;
  const sources = {
    git, project: localProject(git), pipeline: { id: 7, createdAt: "2026-01-01T00:00:00Z", configPath: ".gitlab-ci.yml" },
    globals: pipeline.variables, projectVariables: assignments(c.project_variables), pipelineVariables: assignments(c.variables),
  };
  const title = pipelineName(pipeline.workflow?.name, sources, plan.workflowVariables);
  return toJobPayload(job, 1, {
    git, project: localProject(git), pipeline: { ...sources.pipeline, ...(title ? { name: title } : {}) },
    globalVariables: pipeline.variables, workflowVariables: plan.workflowVariables,
    projectVariables: assignments(c.project_variables), pipelineVariables: assignments(c.variables),
    hashFiles: (files) => (files.some((f) => (c.files ?? {})[f] !== undefined) ? "hash-of-files" : undefined),
  });
}

function checkRun(c: Case): void {
  const dir = mkdtempSync(join(tmpdir(), "runner-conformance-"));
  writeFileSync(join(dir, ".gitlab-ci.yml"), c.ci);
  for (const [path, text] of Object.entries(c.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const args = [
    ...(c.select?.jobs ?? []), ...(c.select?.needs ? ["--needs"] : []), ...(c.select?.manual ?? []).flatMap((m) => ["--manual", m]),
    ...Object.entries(c.variables ?? {}).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
    ...Object.entries(c.inputs ?? {}).flatMap(([k, v]) => ["--input", `${k}=${String(v)}`]),
  ];
  const run = Bun.spawnSync([BINARY, "exec", "--no-color", "--concurrency", "2", ...args], {
    cwd: dir, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" },
  });
  const output = run.stdout.toString() + run.stderr.toString();
  const e = c.expect;
  if (e.exit !== undefined) expect({ exit: run.exitCode, output }).toMatchObject({ exit: e.exit });
  for (const text of e.output ?? []) expect(output).toContain(text);
  for (const text of e.absent ?? []) expect(output).not.toContain(text);
  if (e.statuses || e.pipeline || e.coverage) {
    const summary = JSON.parse(readFileSync(join(dir, ".runner", "runs", "latest", "summary.json"), "utf8")) as {
      pipeline_status: string; jobs: { job: string; status: string; coverage?: number }[];
    };
    if (e.coverage) expect(Object.fromEntries(summary.jobs.map((j) => [j.job, j.coverage ?? null]))).toEqual(e.coverage);
    if (e.pipeline) expect(summary.pipeline_status).toBe(e.pipeline);
    // The latest attempt of each job (retried ones are listed first).
    if (e.statuses) expect(Object.fromEntries(summary.jobs.map((j) => [j.job, j.status]))).toEqual(e.statuses);
  }
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();
let total = 0;
for (const file of files) {
  const cases = parse(readFileSync(join(DIR, file), "utf8")) as Case[];
  total += cases.length;
  describe(`conformance/${file}`, () => {
    for (const c of cases) test(c.name, () => (c.run ? checkRun(c) : checkPlan(c)));
  });
}

test("the suite has at least 150 cases", () => {
  expect(total).toBeGreaterThanOrEqual(150);
});
