import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { createShellExecutor } from "../executors/shell/shell-executor.ts";
import type { SshSettings } from "../executors/ssh/ssh-connection.ts";
import { createSshExecutor } from "../executors/ssh/ssh-executor.ts";
import type { PullPolicy } from "../protocol/types.ts";
import { ConfigError } from "../pipeline/config-error.ts";
import type { JobDefinition, VariableDefinition } from "../pipeline/definitions.ts";
import { loadPipeline } from "../pipeline/pipeline-cache.ts";
import { runLocalPipeline, type LocalJobResult } from "../local/local-run.ts";
import { toJobPayload } from "../pipeline/payload.ts";
import { planRun } from "../pipeline/plan.ts";
import { pipelineName } from "../pipeline/rule-variables.ts";
import { localProject } from "../pipeline/predefined.ts";
import type { ShellName } from "../shell/shell-writer.ts";
import type { RecordEvent } from "../record/phases.ts";
import { RunRecord } from "../record/run-record.ts";
import { TerminalSink } from "../trace/terminal-sink.ts";
import { EXIT, UsageError } from "./exit-codes.ts";
import type { ExecPrefetch } from "./exec-prefetch.ts";
import { interruptibleSignals } from "./job-signals.ts";
import { StatusLine } from "./status-line.ts";
import { parseAssignment } from "./assignment.ts";
import { includeContext as includeRuleContext, ruleContext } from "./rule-context.ts";
import { readVariableFiles } from "./variable-files.ts";
import { renderSummary } from "./summary.ts";

/** The options of `runner exec`. */
export interface ExecOptions {
  readonly jobs: readonly string[];
  readonly file: string;
  /** The git calls already under way for the project directory (`--cwd`). */
  readonly prefetch: ExecPrefetch;
  readonly variables: readonly string[];
  /** `--input name=value`: the pipeline's `spec:inputs`. */
  readonly inputs?: readonly string[];
  /** `--variables-file` / `--secrets-file`: dotenv files of project variables (secrets are masked). */
  readonly variablesFiles?: readonly string[];
  readonly secretsFiles?: readonly string[];
  readonly executor: "shell" | "ssh" | "docker";
  /** For `--executor docker`: the image of jobs without one, the helper image and the pull policy. */
  readonly docker?: { readonly image?: string; readonly helperImage?: string; readonly pullPolicy: PullPolicy };
  /** For `--executor ssh`: where and how to connect, and the remote builds directory. */
  readonly ssh?: { readonly settings: SshSettings; readonly buildsDir?: string };
  readonly shell: ShellName;
  readonly concurrency?: number;
  /** `--needs`: the named jobs run with everything they wait for. */
  readonly withNeeds?: boolean;
  /** `--manual JOB`: manual jobs played in this run. */
  readonly manual?: readonly string[];
  /** `--list` / `--list-json`: print the plan (jobs, stages, when, needs, exclusions) and run nothing. */
  readonly list?: "table" | "json";
  /** `--preview`: print the merged configuration GitLab would see (includes, extends, !reference resolved). */
  readonly preview?: boolean;
  /** `--graph`: draw the plan's DAG, run nothing. */
  readonly graph?: boolean;
  /** `--dry-run`: plan and validate, run nothing. */
  readonly dryRun?: boolean;
  /** `--keep`: a failed job's containers (Docker) stay for debugging. */
  readonly keep?: boolean;
  /** `--shell-on-failure`: an interactive shell in a failed job's build container (Docker), through these. */
  readonly shellOnFailure?: { readonly stdin: NodeJS.ReadStream; readonly stdout: NodeJS.WriteStream };
  readonly buildsDir?: string;
  /** Whether parsed pipelines are cached in `.runner/cache` (on unless `--no-cache`). */
  readonly cache: boolean;
  readonly color: boolean;
  /** Stream the run record's events as JSON lines on stdout instead of the human view. */
  readonly json?: boolean;
  /** Whether stdout is a terminal: then a live status line is kept at the bottom. */
  readonly terminal?: boolean;
  readonly print: (text: string) => void;
  readonly printError: (text: string) => void;
  readonly env: Record<string, string>;
}

/** `runner exec`: runs jobs of the local `.gitlab-ci.yml` and returns the exit code. */
export async function execCommand(options: ExecOptions): Promise<number> {
  const { cwd } = options.prefetch;
  const filePath = isAbsolute(options.file) ? options.file : join(cwd, options.file);
  const pipelineVariables = options.variables.map((text) => parseAssignment(text));
  // The project is the directory the run starts in (a subdirectory of a monorepo works as in
  // gitlab-ci-local); commit facts come from the repository around it.
  const [text, git, projectVariables] = await Promise.all([
    readConfig(filePath, options.file), options.prefetch.git,
    readVariableFiles({ cwd, variablesFiles: options.variablesFiles ?? [], secretsFiles: options.secretsFiles ?? [] }),
  ]);
  const displayName = relative(cwd, filePath) || filePath;
  const inputs = Object.fromEntries((options.inputs ?? []).map((text) => parseAssignment(text, "--input")).map((v) => [v.key, v.value]));
  const project = localProject(git);
  const createdAt = new Date();
  const pipelineId = Math.floor(createdAt.getTime() / 1000) % 10_000_000;
  const localPipeline = { id: pipelineId, createdAt: createdAt.toISOString().replace(/\.\d+Z$/, "Z"), configPath: relative(git.root, filePath) };
  const includeContext = () => includeRuleContext({ git, project, pipeline: localPipeline, globals: [], projectVariables, pipelineVariables, cwd, env: options.env });
  if (options.preview) {
    const [{ parseYamlFile }, { mergedConfig }, { projectIncludes }, YAML] = await Promise.all([
      import("../pipeline/yaml-file.ts"), import("../pipeline/definitions.ts"), import("../pipeline/pipeline-cache.ts"), import("yaml"),
    ]);
    const file = parseYamlFile(displayName, text);
    const includes = projectIncludes(cwd, parseYamlFile, includeContext());
    options.print(YAML.stringify(mergedConfig(file, { includes, inputs }), { aliasDuplicateObjects: false }));
    return EXIT.ok;
  }
  const pipeline = await loadPipeline({
    text, displayName, root: cwd, cacheDir: options.cache ? join(cwd, ".runner", "cache", "pipelines") : undefined,
    inputs, includeContext: includeContext(),
  });
  const plan = planRun(pipeline, {
    jobs: options.jobs, withNeeds: options.withNeeds === true, manual: options.manual ?? [],
    context: ruleContext({
      git, project, pipeline: localPipeline, globals: pipeline.variables, projectVariables, pipelineVariables, cwd, env: options.env,
    }),
  });
  // Keywords without local effect are named whatever is asked (on stderr, so listings stay clean).
  if (!options.json) for (const warning of pipeline.warnings ?? []) options.printError(`Warning: ${warning}`);
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
  if (options.dryRun) {
    // Planned and validated (the file, rules, needs, includes); nothing runs.
    options.print(`${plan.jobs.length} job${plan.jobs.length === 1 ? "" : "s"} would run: ${plan.jobs.map((p) => p.job.name).join(", ")}\n`);
    return EXIT.ok;
  }
  const worktree = options.prefetch.worktree();
  const name = pipelineName(
    pipeline.workflow?.name, { git, project, pipeline: localPipeline, globals: pipeline.variables, projectVariables, pipelineVariables },
    plan.workflowVariables,
  );
  const ctx = {
    git, project, pipelineVariables, pipeline: name ? { ...localPipeline, name } : localPipeline, projectVariables,
    globalVariables: pipeline.variables, workflowVariables: plan.workflowVariables,
    hashFiles: (files: readonly string[]) => hashFiles(cwd, files),
  };
  const allJobs = plan.jobs.map((p) => p.job);
  const width = Math.max(...allJobs.map((j) => j.name.length));
  const signals = interruptibleSignals((count) =>
    options.printError(count === 1 ? "Canceling: after_script still runs; Ctrl-C again to abort" : "Aborting"),
  );
  const status = options.terminal && !options.json ? new StatusLine(options.print) : undefined;
  const print = status ? (text: string) => status.print(text) : options.print;
  // The run leaves its record in .runner/runs; with --json its events are the output.
  const record = new RunRecord(join(cwd, ".runner", "runs"), {
    onEvent: (event: RecordEvent) => {
      if (options.json) options.print(`${JSON.stringify(event)}\n`);
      if (event.type === "job.start") status?.jobStarted(event.job);
      if (event.type === "job.finish") status?.jobFinished(event.job);
    },
  });
  // The Docker machinery loads only when it is used.
  const docker = options.executor === "docker" ? await import("./exec-docker.ts") : undefined;
  await docker?.removeExecLeftovers();
  const onFailure = docker && options.shellOnFailure ? docker.interactiveShell({ ...options.shellOnFailure, print: options.print }) : undefined;
  let results: LocalJobResult[];
  try {
    results = await runLocalPipeline({
      jobs: plan.jobs, unplayed: plan.unplayed, git, worktree, projectRoot: cwd, signals, hostEnv: options.env, record,
      cancelOnJobFailure: pipeline.workflow?.cancelOnJobFailure === true,
      buildsRoot: options.buildsDir ? resolve(cwd, options.buildsDir) : join(cwd, ".runner", "builds"),
      concurrency: options.concurrency ?? availableParallelism(),
      payloadFor: (job, index, received) => toJobPayload(job, pipelineId * 1000 + index + 1, ctx, received),
      cacheDir: join(cwd, ".runner", "cache"),
      executorFor: (job, directories, relative) =>
        options.executor === "docker"
          ? docker!.localDockerExecutor(job, relative, cwd, options.docker ?? { pullPolicy: "if-not-present" }, options.keep ?? false, options.env, onFailure)
          : options.executor === "ssh" && options.ssh
          ? createSshExecutor({ settings: options.ssh.settings, projectPath: relative, buildsDir: options.ssh.buildsDir ?? "builds/runner-exec" })
          : createShellExecutor({ shell: options.shell, directories, hostEnv: options.env }),
      sinkFor: (job) => options.json ? silentSink : new TerminalSink({
        print, color: options.color,
        prefix: allJobs.length > 1 ? jobPrefix(job, allJobs.indexOf(job), width, options.color) : "",
      }),
      warningsFor: (job) => [...imageNotice(job, options.executor), ...missingSecrets(job, projectVariables)],
    });
  } finally {
    signals.dispose();
    status?.stop();
  }
  record.finish();
  if (!options.json && (allJobs.length > 1 || results.some((r) => r.status === "failed"))) options.print(renderSummary(results, options.color));
  const failed = results.some((r) => (r.status === "failed" || r.status === "canceled") && !r.allowFailure);
  return failed ? EXIT.jobFailed : EXIT.ok;
}

const silentSink = { write() {}, flush() {} };


/** `cache:key:files`: a SHA-1 of the files' contents (in path order), or undefined when none exists. */
function hashFiles(cwd: string, files: readonly string[]): string | undefined {
  const hash = new Bun.CryptoHasher("sha1");
  let found = false;
  for (const pattern of [...files].sort()) {
    for (const path of [...new Bun.Glob(pattern).scanSync({ cwd, dot: true })].sort()) {
      hash.update(path);
      hash.update(readFileSync(join(cwd, path)));
      found = true;
    }
  }
  return found ? hash.digest("hex") : undefined;
}

async function readConfig(path: string, shown: string): Promise<string> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new ConfigError(`Cannot read ${shown}: no such file`);
  return file.text();
}

/**
 * The SSH settings of `runner exec --executor ssh`: the `--ssh-*` flags, over the `[runners.ssh]`
 * of the first SSH runner in `--config` when one is given.
 */
export async function sshSettingsFrom(options: {
  configFile?: string; env: Record<string, string>;
  host?: string; port?: number; user?: string; password?: string; identityFile?: string; knownHostsFile?: string;
  disableStrictHostKeyChecking?: boolean; buildsDir?: string;
}): Promise<{ settings: SshSettings; buildsDir?: string }> {
  let fromConfig: { settings?: Partial<SshSettings>; buildsDir?: string } = {};
  if (options.configFile) {
    const { loadConfig } = await import("../config/config-file.ts");
    const { config } = await loadConfig(options.configFile, options.env);
    const runner = config.runners.find((r) => r.executor === "ssh") ?? config.runners.find((r) => r.ssh?.host);
    const ssh = runner?.ssh;
    if (ssh) {
      fromConfig = {
        settings: {
          ...(ssh.host ? { host: ssh.host } : {}), ...(ssh.port ? { port: Number(ssh.port) } : {}), ...(ssh.user ? { user: ssh.user } : {}),
          ...(ssh.password !== undefined ? { password: ssh.password } : {}), ...(ssh.identity_file ? { identityFile: ssh.identity_file } : {}),
          ...(ssh.known_hosts_file ? { knownHostsFile: ssh.known_hosts_file } : {}),
          ...(ssh.disable_strict_host_key_checking !== undefined ? { disableStrictHostKeyChecking: ssh.disable_strict_host_key_checking } : {}),
        },
        ...(runner?.builds_dir ? { buildsDir: runner.builds_dir } : {}),
      };
    }
  }
  const host = options.host ?? fromConfig.settings?.host;
  if (!host) throw new UsageError("--executor ssh needs --ssh-host (or a [runners.ssh] host in --config)");
  const settings: SshSettings = {
    host,
    port: options.port ?? fromConfig.settings?.port ?? 22,
    user: options.user ?? fromConfig.settings?.user ?? options.env.USER ?? "root",
    disableStrictHostKeyChecking: options.disableStrictHostKeyChecking ?? fromConfig.settings?.disableStrictHostKeyChecking ?? false,
    ...((options.password ?? fromConfig.settings?.password) !== undefined ? { password: options.password ?? fromConfig.settings?.password } : {}),
    ...((options.identityFile ?? fromConfig.settings?.identityFile) ? { identityFile: options.identityFile ?? fromConfig.settings?.identityFile } : {}),
    ...((options.knownHostsFile ?? fromConfig.settings?.knownHostsFile) ? { knownHostsFile: options.knownHostsFile ?? fromConfig.settings?.knownHostsFile } : {}),
  };
  const buildsDir = options.buildsDir ?? fromConfig.buildsDir;
  return { settings, ...(buildsDir ? { buildsDir } : {}) };
}

/** The job's `secrets:` that no secrets file gives a value. */
function missingSecrets(job: JobDefinition, projectVariables: readonly VariableDefinition[]): string[] {
  return (job.secrets ?? [])
    .filter((secret) => !projectVariables.some((v) => v.key === secret.name))
    .map((secret) => `secret ${secret.name} has no value here: give it in .runner/secrets.env or --secrets-file`);
}

function imageNotice(job: JobDefinition, executor: string): string[] {
  return job.image && executor !== "docker" ? [`image "${job.image.name}" is ignored by the ${executor} executor`] : [];
}

const PREFIX_COLORS = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92];

function jobPrefix(job: JobDefinition, index: number, width: number, color: boolean): string {
  const name = job.name.padEnd(width);
  if (!color) return `${name} | `;
  const code = PREFIX_COLORS[index % PREFIX_COLORS.length];
  return `\x1b[${code}m${name}\x1b[0m | `;
}
