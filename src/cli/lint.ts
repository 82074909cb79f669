import { unreadable } from "./file-kind.ts";
import { printable } from "./printable.ts";
import { isAbsolute, join, relative } from "node:path";
import { ConfigError, ConfigErrorList } from "../pipeline/config-error.ts";
import { readPipeline } from "../pipeline/definitions.ts";
import { projectIncludes } from "../pipeline/pipeline-cache.ts";
import { parseYamlFile } from "../pipeline/yaml-file.ts";
import { readGitFacts } from "../pipeline/git-facts.ts";
import { localProject } from "../pipeline/predefined.ts";
import { parseInputs } from "./assignment.ts";
import { includeContext } from "./rule-context.ts";
import { EXIT } from "./exit-codes.ts";

/** What `runner lint --json` prints. */
export interface LintReport {
  readonly file: string;
  readonly valid: boolean;
  readonly errors: readonly { readonly message: string; readonly file?: string; readonly line?: number; readonly column?: number }[];
  readonly warnings: readonly string[];
  readonly jobs?: number;
  readonly stages?: number;
}

/**
 * `runner lint`: validates a `.gitlab-ci.yml` as GitLab's CI Lint does — every entry error at once
 * (unknown keys, bad values, missing scripts), then the first logical one (stages, needs,
 * dependencies, cycles) — with file, line and column. Exit code 0 when valid, 2 otherwise.
 */
export async function lintCommand(options: {
  cwd: string;
  file: string;
  /** `--input name=value`. */
  inputs: readonly string[];
  json: boolean;
  env: Record<string, string>;
  print: (text: string) => void;
}): Promise<number> {
  const inputs = parseInputs(options.inputs);
  const report = await lint(options.cwd, options.file, inputs, options.env);
  if (options.json) {
    options.print(`${JSON.stringify(report, null, 2)}\n`);
  } else if (report.valid) {
    const counts = `${report.jobs} job${report.jobs === 1 ? "" : "s"} in ${report.stages} stage${report.stages === 1 ? "" : "s"}`;
    options.print(printable(`${report.file} is valid (${counts})\n`));
    for (const warning of report.warnings) options.print(`Warning: ${printable(warning)}\n`);
  } else {
    options.print(printable(`${report.file} is invalid:\n`));
    for (const e of report.errors) options.print(`  ${printable(`${e.file ? `${e.file}:${e.line}:${e.column}: ` : ""}${e.message}`)}\n`);
  }
  return report.valid ? EXIT.ok : EXIT.badInput;
}

async function lint(cwd: string, file: string, inputs: Readonly<Record<string, string>>, env: Record<string, string>): Promise<LintReport> {
  const path = isAbsolute(file) ? file : join(cwd, file);
  const shown = relative(cwd, path) || path;
  const why = await unreadable(path);
  if (why) return { file: shown, valid: false, errors: [{ message: `Cannot read ${shown}: ${why}` }], warnings: [] };
  const source = Bun.file(path);
  // Include values and include:rules see this project's predefined variables, as in a run.
  const git = await readGitFacts(cwd, env);
  const context = includeContext({
    git, project: localProject(git), pipeline: { id: 0, createdAt: new Date().toISOString(), configPath: relative(git.root, path) },
    globals: [], projectVariables: [], pipelineVariables: [], cwd, env,
  });
  try {
    const pipeline = readPipeline(parseYamlFile(shown, await source.text()), { includes: projectIncludes(cwd, parseYamlFile, context), inputs });
    const used = new Set(pipeline.jobs.map((j) => j.stage));
    return { file: shown, valid: true, errors: [], warnings: pipeline.warnings ?? [], jobs: pipeline.jobs.length, stages: used.size };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const errors = error instanceof ConfigErrorList ? error.errors : [error];
    return { file: shown, valid: false, errors: errors.map((e) => ({ message: e.message, ...e.position })), warnings: [] };
  }
}
