import { unreadable } from "./file-kind.ts";
import { printable } from "./printable.ts";
import { isAbsolute, join, relative } from "node:path";
import { ConfigError } from "../pipeline/config-error.ts";
import { loadPipeline } from "../pipeline/pipeline-cache.ts";
import { PipelineFilteredError, planRun, type Plan } from "../pipeline/plan.ts";
import type { PipelineDefinition } from "../pipeline/definitions.ts";
import { localProject } from "../pipeline/predefined.ts";
import { parseAssignment, parseInputs } from "./assignment.ts";
import { runPlan } from "./exec-run.ts";
import { ignoreRunnerDirectory } from "../local/runner-directory.ts";
import { EXIT } from "./exit-codes.ts";
import { includeContext as includeRuleContext, ruleContext } from "./rule-context.ts";
import { readVariableFiles } from "./variable-files.ts";

export type { ExecOptions } from "./exec-options.ts";
import type { ExecOptions } from "./exec-options.ts";

/** `runner exec`: runs jobs of the local `.gitlab-ci.yml` and returns the exit code. */
export async function execCommand(options: ExecOptions): Promise<number> {
  const { cwd } = options.prefetch;
  const filePath = isAbsolute(options.file) ? options.file : join(cwd, options.file);
  const pipelineVariables = options.variables.map((text) => parseAssignment(text));
  // The project is the directory the run starts in (a subdirectory of a monorepo works as in
  // gitlab-ci-local); commit facts come from the repository around it.
  // .runner/ (the plan cache, builds, records) ignores itself in git before anything is written there.
  const [text, git, projectVariables] = await Promise.all([
    readConfig(filePath, options.file), options.prefetch.git,
    readVariableFiles({ cwd, variablesFiles: options.variablesFiles ?? [], secretsFiles: options.secretsFiles ?? [] }),
    ignoreRunnerDirectory(cwd),
  ]);
  const displayName = relative(cwd, filePath) || filePath;
  const inputs = parseInputs(options.inputs ?? []);
  const project = localProject(git);
  const createdAt = new Date();
  const pipelineId = Math.floor(createdAt.getTime() / 1000) % 10_000_000;
  const localPipeline = {
    id: pipelineId, createdAt: createdAt.toISOString().replace(/\.\d+Z$/, "Z"), configPath: relative(git.root, filePath),
    ...(options.protectedRef ? { protectedRef: true } : {}),
  };
  const includeContext = () => includeRuleContext({ git, project, pipeline: localPipeline, globals: [], projectVariables, pipelineVariables, cwd, env: options.env });
  if (options.preview) return printPreview(options, { cwd, text, displayName, inputs, includes: includeContext() });
  const pipeline = await loadPipeline({
    text, displayName, root: cwd, cacheDir: options.cache ? join(cwd, ".runner", "cache", "pipelines") : undefined,
    inputs, includeContext: includeContext(),
  });
  let plan: ReturnType<typeof planRun>;
  try {
    plan = planRun(pipeline, {
      jobs: options.jobs, withNeeds: options.withNeeds === true, manual: options.manual ?? [],
      context: ruleContext({
        git, project, pipeline: localPipeline, globals: pipeline.variables, projectVariables, pipelineVariables, cwd, env: options.env,
      }),
    });
  } catch (error) {
    if (!(error instanceof PipelineFilteredError)) throw error;
    return reportFiltered(error, options);
  }
  // Keywords without local effect are named whatever is asked (on stderr, so listings stay clean).
  if (!options.json) for (const warning of pipeline.warnings ?? []) options.printError(`Warning: ${printable(warning)}`);
  const shown = await showPlan(options, plan, pipeline);
  if (shown !== undefined) return shown;
  return runPlan(options, {
    cwd, git, project, localPipeline, pipeline, plan, projectVariables, pipelineVariables, worktree: options.prefetch.worktree(),
  });
}

/** `--preview`: the merged configuration GitLab would see, in YAML 1.1 (GitLab's reader, Psych, is 1.1: "yes", "no", "on", "10005:0" stay strings). */
async function printPreview(options: ExecOptions, file: {
  cwd: string; text: string; displayName: string; inputs: Record<string, unknown>; includes: Parameters<typeof loadPipeline>[0]["includeContext"];
}): Promise<number> {
  const [{ parseYamlFile }, { mergedConfig }, { projectIncludes }, YAML] = await Promise.all([
    import("../pipeline/yaml-file.ts"), import("../pipeline/definitions.ts"), import("../pipeline/pipeline-cache.ts"), import("yaml"),
  ]);
  const includes = projectIncludes(file.cwd, parseYamlFile, file.includes);
  options.print(YAML.stringify(mergedConfig(parseYamlFile(file.displayName, file.text), { includes, inputs: file.inputs }), { aliasDuplicateObjects: false, version: "1.1" }));
  return EXIT.ok;
}

/** `--graph`, `--list`, `--list-json`, `--dry-run`: the plan shown and nothing run (the exit code); undefined when the jobs are to run. */
async function showPlan(options: ExecOptions, plan: Plan, pipeline: PipelineDefinition): Promise<number | undefined> {
  if (options.graph) {
    const { renderGraph } = await import("./plan-listing.ts");
    options.print(renderGraph(plan));
    return EXIT.ok;
  }
  if (options.list) {
    const { listPlan, renderListing } = await import("./plan-listing.ts");
    const rows = listPlan(plan, (name) => pipeline.jobs.find((j) => j.name === name)?.stage);
    options.print(options.list === "json" ? `${JSON.stringify(rows, null, 2)}\n` : renderListing(rows));
    return EXIT.ok;
  }
  if (!options.json) for (const { job, reason } of plan.excluded) options.printError(`Not running ${job}: ${reason}`);
  if (!options.dryRun) return undefined;
  // Planned and validated (the file, rules, needs, includes); nothing runs.
  options.print(`${plan.jobs.length} job${plan.jobs.length === 1 ? "" : "s"} would run: ${plan.jobs.map((p) => p.job.name).join(", ")}\n`);
  return EXIT.ok;
}

/**
 * A pipeline workflow:rules would not create: a valid file, so not "invalid configuration". Says
 * so, why, and which jobs do not run (`--list` lists them with that reason); exits 3.
 */
function reportFiltered(error: PipelineFilteredError, options: ExecOptions): number {
  const reason = `the pipeline is not created: ${error.why}`;
  if (options.list === "json") {
    options.print(`${JSON.stringify({ created: false, reason: error.message, why: error.why, jobs: error.jobs.map((job) => ({ job, reason })) }, null, 2)}\n`);
  } else if (options.list) {
    options.print(`${error.message} ${error.why}\n${error.jobs.map((job) => `  ${printable(job)}: not run, ${reason}`).join("\n")}\n`);
  } else {
    options.printError(`This pipeline would not be created: ${error.message} ${printable(error.why)}`);
    options.printError(`Not running ${error.jobs.map(printable).join(", ")}: ${reason}`);
  }
  return EXIT.pipelineFiltered;
}

async function readConfig(path: string, shown: string): Promise<string> {
  const why = await unreadable(path);
  if (why) throw new ConfigError(`Cannot read ${shown}: ${why}`);
  return Bun.file(path).text();
}
