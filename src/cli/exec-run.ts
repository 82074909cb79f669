import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { runLocalPipeline, type LocalJobResult } from "../local/local-run.ts";
import type { WorktreeListing } from "../local/worktree.ts";
import type { JobDefinition, PipelineDefinition, VariableDefinition } from "../pipeline/definitions.ts";
import type { GitFacts } from "../pipeline/git-facts.ts";
import type { Plan } from "../pipeline/plan.ts";
import type { PayloadContext } from "../pipeline/payload.ts";
import type { LocalPipeline, LocalProject } from "../pipeline/predefined.ts";
import { pipelineName } from "../pipeline/rule-variables.ts";
import type { RecordEvent } from "../record/phases.ts";
import type { PageServer } from "./page-server.ts";
import { slugify } from "../pipeline/slug.ts";
import { RunRecord } from "../record/run-record.ts";
import { TerminalSink } from "../trace/terminal-sink.ts";
import type { ExecOptions } from "./exec-options.ts";
import { EXIT } from "./exit-codes.ts";
import { chooseExecutors, describeChoices, needsEngineProbe } from "./executor-choice.ts";
import { withDebugging } from "./debug-executors.ts";
import { localRunners } from "./local-runners.ts";
import { interruptibleSignals } from "./job-signals.ts";
import { StatusLine } from "./status-line.ts";
import { renderSummary } from "./summary.ts";

/** What `runner exec` planned, and what the run needs besides the options. */
export interface PlannedRun {
  readonly cwd: string;
  readonly git: GitFacts;
  readonly project: LocalProject;
  readonly localPipeline: LocalPipeline;
  readonly pipeline: PipelineDefinition;
  readonly plan: Plan;
  readonly projectVariables: readonly VariableDefinition[];
  readonly pipelineVariables: readonly VariableDefinition[];
  readonly worktree: Promise<WorktreeListing>;
}

/**
 * Runs a planned local pipeline: the executors, the terminal view (or the record's events with
 * --json), Ctrl-C, the run record, the closing table; returns the exit code.
 */
export async function runPlan(options: ExecOptions, planned: PlannedRun): Promise<number> {
  const { cwd, git, pipeline, plan, projectVariables, worktree } = planned;
  const allJobs = plan.jobs.map((p) => p.job);
  const width = Math.max(...allJobs.map((j) => j.name.length));
  const signals = interruptibleSignals((count) =>
    options.printError(count === 1 ? "Canceling: after_script still runs; Ctrl-C again to abort" : "Aborting"),
  );
  const status = options.terminal && !options.json ? new StatusLine(options.print) : undefined;
  const print = status ? (text: string) => status.print(text) : options.print;
  // The run leaves its record in .runner/runs; with --json its events are the output.
  let page: PageServer | undefined;
  const record = new RunRecord(join(cwd, ".runner", "runs"), {
    stages: pipeline.stages,
    onEvent: (event: RecordEvent) => {
      page?.notify();
      if (options.json) options.print(`${JSON.stringify(event)}\n`);
      if (event.type === "job.start") status?.jobStarted(event.job);
      if (event.type === "job.finish") status?.jobFinished(event.job);
    },
  });
  if (options.serve) page = await startPage(options.serve.address, record.dir, plan.jobs.map((p) => p.job), pipeline.stages, options.printError);
  const executors = await chooseLocalExecutors(options, allJobs, options.json ? options.printError : (line) => print(`${line}\n`));
  const runners = localRunners(options, cwd);
  let results: LocalJobResult[];
  try {
    results = await runLocalPipeline({
      jobs: plan.jobs, unplayed: plan.unplayed, git, worktree, projectRoot: cwd, signals, hostEnv: options.env, record,
      ...(options.prefetch.headStart ? { headStart: options.prefetch.headStart } : {}),
      cancelOnJobFailure: pipeline.workflow?.cancelOnJobFailure === true,
      concurrency: options.concurrency ?? availableParallelism(),
      payloads: { pipelineId: planned.localPipeline.id, context: payloadContext(planned) },
      runners: new Map(allJobs.map((job) => [job.name, runners[executors.choices.get(job.name)?.executor ?? "shell"] ?? runners.shell!])),
      decorate: (executor, job) => withDebugging(executor, job, { keep: options.keep ?? false, ...(executors.openShell ? { openShell: executors.openShell } : {}) }),
      view: (job) => options.json ? silentSink : new TerminalSink({
        print, color: options.color,
        prefix: allJobs.length > 1 ? jobPrefix(job, allJobs.indexOf(job), width, options.color) : "",
      }),
      warnings: new Map(allJobs.map((job) => [job.name, [...imageNotice(job, options.executor), ...missingSecrets(job, projectVariables)]])),
    });
  } finally {
    signals.dispose();
    status?.stop();
    await executors.leftovers;
  }
  record.finish();
  if (page) await endPage(page, options.serve?.stay === true, options.printError);
  if (!options.json && (allJobs.length > 1 || results.some((r) => r.status === "failed"))) options.print(renderSummary(results, options.color));
  const failed = results.some((r) => (r.status === "failed" || r.status === "canceled") && !r.allowFailure);
  return failed ? EXIT.jobFailed : EXIT.ok;
}

/** What the planner needs to make each job's payload: the pipeline's facts and variables. */
function payloadContext(planned: PlannedRun): PayloadContext {
  const { cwd, git, project, localPipeline, pipeline, plan, projectVariables, pipelineVariables } = planned;
  const name = pipelineName(
    pipeline.workflow?.name, { git, project, pipeline: localPipeline, globals: pipeline.variables, projectVariables, pipelineVariables },
    plan.workflowVariables,
  );
  return {
    git, project, pipelineVariables, pipeline: name ? { ...localPipeline, name } : localPipeline, projectVariables,
    globalVariables: pipeline.variables, ...(plan.workflowVariables ? { workflowVariables: plan.workflowVariables } : {}),
    hashFiles: (files: readonly string[]) => hashFiles(cwd, files),
  };
}

/**
 * Each job's executor, said in one line; the Docker machinery loads only when a job has an image or
 * Docker is forced, and then removes what crashed runs left behind (`leftovers`, awaited at the end).
 */
async function chooseLocalExecutors(options: ExecOptions, jobs: readonly JobDefinition[], say: (line: string) => void) {
  const choice = { ...(options.executor ? { forced: options.executor } : {}), ...(options.docker?.image ? { defaultImage: options.docker.image } : {}) };
  const probe = needsEngineProbe(jobs, choice) || options.executor === "docker" ? await import("./exec-docker.ts") : undefined;
  const engine = probe && !options.executor ? await probe.probeDockerEngine(options.env) : undefined;
  const choices = chooseExecutors(jobs, { ...choice, ...(engine ? { engine } : {}) });
  say(describeChoices(jobs, choices));
  const docker = [...choices.values()].some((c) => c.executor === "docker") ? probe : undefined;
  // Alongside the jobs, not before them: what a crashed run left carries its own (dead) pid and
  // host, what this run makes carries ours, and kept build volumes carry neither (labels.ts).
  const leftovers = docker ? docker.removeExecLeftovers() : Promise.resolve();
  const openShell = docker && options.shellOnFailure ? docker.interactiveShell({ ...options.shellOnFailure, print: options.print }) : undefined;
  return { choices, leftovers, ...(openShell ? { openShell } : {}) };
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

/** The job's `secrets:` that no secrets file gives a value. */
function missingSecrets(job: JobDefinition, projectVariables: readonly VariableDefinition[]): string[] {
  return (job.secrets ?? [])
    .filter((secret) => !projectVariables.some((v) => v.key === secret.name))
    .map((secret) => `secret ${secret.name} has no value here: give it in .runner/secrets.env or --secrets-file`);
}

/** A forced shell or ssh executor runs a job's image-less: said in its trace. */
function imageNotice(job: JobDefinition, forced: ExecOptions["executor"]): string[] {
  return job.image && forced && forced !== "docker" ? [`image "${job.image.name}" is ignored by the ${forced} executor`] : [];
}

const PREFIX_COLORS = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92];

function jobPrefix(job: JobDefinition, index: number, width: number, color: boolean): string {
  const name = job.name.padEnd(width);
  if (!color) return `${name} | `;
  const code = PREFIX_COLORS[index % PREFIX_COLORS.length];
  return `\x1b[${code}m${name}\x1b[0m | `;
}

/** `--serve`: the run's page, live, from a server; its URL said first. */
async function startPage(address: string, dir: string, jobs: readonly JobDefinition[], stages: readonly string[], say: (line: string) => void): Promise<PageServer> {
  const { servePage } = await import("./page-server.ts");
  const plan = jobs.map((job, index) => ({
    name: job.name, stage: job.stage, allowFailure: job.allowFailure, slug: slugify(job.name) || `job-${index}`,
    ...(job.needs ? { needs: job.needs.map((n) => n.job) } : {}),
  }));
  const server = servePage({ address, runDir: () => (existsSync(dir) ? dir : undefined), plan, stages });
  say(`The run's page: ${server.url}`);
  return server;
}

/** The run is over: the pages are told, and the server stops (after a moment to fetch the end), unless told to stay. */
async function endPage(page: PageServer, stay: boolean, say: (line: string) => void): Promise<void> {
  page.notify("end");
  if (stay) {
    say(`The run is over; its page stays at ${page.url} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  } else {
    await Bun.sleep(1000);
  }
  page.stop();
}
