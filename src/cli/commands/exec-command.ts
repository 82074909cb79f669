import { Option, type Command } from "@commander-js/extra-typings";
import { startExecPrefetch, type ExecPrefetch } from "../exec-prefetch.ts";
import { addOptionsIfUsed, collect, configOption, positiveInteger, useColor, type Registration } from "./command-kit.ts";
import { descriptorWriter, isTerminal } from "../terminal-output.ts";
import { executorFlagOptions, type ExecutorFlagValues } from "./executor-flags.ts";
import { cacheFlagOptions, type CacheFlagValues } from "./cache-flags.ts";
import type { ExecOptions } from "../exec-options.ts";

/** `runner exec [jobs...]`: the local `.gitlab-ci.yml`'s jobs. */
export const registerExec: Registration = (program, ctx) => {
  const command = execOptions(program.command("exec")
    .description("Run jobs of the local .gitlab-ci.yml (all of them, stage by stage, when none is named)")
    .argument("[jobs...]", "jobs to run"));
  addOptionsIfUsed(command, ctx, executorFlagOptions());
  addOptionsIfUsed(command, ctx, cacheFlagOptions());
  command.action(async (jobs, opts) => {
    const env = ctx.env;
    // git starts first and runs while the parser and the job machinery load; so does the first
    // job's first shell, unless no job is to run on the shell.
    const runsNothing = opts.list || opts.listJson || opts.dryRun || opts.graph || opts.preview;
    const mayUseShell = !runsNothing && (opts.executor === undefined || opts.executor === "shell");
    const prefetch = startExecPrefetch(opts.cwd, env, mayUseShell ? { shell: opts.shell, ...(opts.buildsDir ? { buildsDir: opts.buildsDir } : {}) } : undefined);
    try {
      await runExec(jobs, opts, prefetch);
    } finally {
      await prefetch.headStart?.discard();
    }
  });
  const runExec = async (jobs: string[], opts: ReturnType<typeof command.opts>, prefetch: ExecPrefetch) => {
    const env = ctx.env;
    const errors = descriptorWriter(2);
    const [{ execCommand }, { executorSectionFrom, sharedCacheFrom }] = await Promise.all([import("../exec.ts"), import("../exec-sections.ts")]);
    const flags = opts as ExecutorFlagValues;
    const remote = opts.executor === "ssh" || opts.executor === "custom"
      ? await executorSectionFrom(opts.executor, { ...(opts.config ? { configFile: opts.config } : {}), env, flags })
      : undefined;
    const sharedCache = await sharedCacheFrom({ ...(opts.config ? { configFile: opts.config } : {}), env, flags: opts as CacheFlagValues });
    ctx.exit(await execCommand({
      jobs, file: opts.file, prefetch, variables: opts.variable, variablesFiles: opts.variablesFile, inputs: opts.input, secretsFiles: opts.secretsFile,
      ...(opts.executor ? { executor: opts.executor } : {}), ...(sharedCache ? { sharedCache } : {}),
      ...(remote && opts.executor === "ssh" ? { ssh: remote as NonNullable<ExecOptions["ssh"]> } : {}),
      ...(remote && opts.executor === "custom" ? { custom: remote } : {}),
      docker: { pullPolicy: opts.pullPolicy, ...(opts.dockerImage ? { image: opts.dockerImage } : {}), ...(opts.helperImage ? { helperImage: opts.helperImage } : {}) },
      shell: opts.shell, concurrency: opts.concurrency, withNeeds: opts.needs === true, protectedRef: opts.protected === true, manual: opts.manual,
      keep: opts.keep === true, ...(opts.listJson ? { list: "json" as const } : opts.list ? { list: "table" as const } : {}),
      dryRun: opts.dryRun === true, graph: opts.graph === true, preview: opts.preview === true,
      ...(opts.serve ? { serve: { address: opts.serve === true ? "0" : opts.serve, stay: opts.stay === true } } : {}),
      ...(opts.shellOnFailure ? { shellOnFailure: { stdin: process.stdin, stdout: process.stdout } } : {}),
      buildsDir: opts.buildsDir, cache: opts.cache, json: opts.json === true, terminal: isTerminal(1),
      color: useColor(opts.color, env), print: descriptorWriter(1), printError: (text) => errors(`${text}\n`), env,
    }));
  };
};

function execOptions<C extends Command<[string[]]>>(command: C) {
  return command
    .option("-f, --file <path>", "the pipeline file", ".gitlab-ci.yml")
    .option("--cwd <dir>", "the project directory", ".")
    .option("-v, --variable <KEY=VALUE>", "a pipeline variable, beats the file's (repeatable)", collect, [] as string[])
    .option("-i, --input <name=value>", "a pipeline input of the file's spec:inputs (repeatable)", collect, [] as string[])
    .option("--variables-file <file>", "a dotenv file of project variables (repeatable; .runner/variables.env is read when present)", collect, [] as string[])
    .option("--secrets-file <file>", "a dotenv file of masked variables (repeatable; .runner/secrets.env is read when present)", collect, [] as string[])
    .addOption(new Option("--executor <name>", "where every job runs (default: a job with an image in Docker when an engine answers, the others on the shell)").choices(["shell", "ssh", "docker", "custom"] as const))
    .option("--docker-image <image>", "docker executor: the image of jobs that name none")
    .option("--helper-image <image>", "docker executor: the image of the runner's own stages (default: runner-helper:<version>, else the job's image)")
    .addOption(new Option("--pull-policy <policy>", "docker executor: when images are pulled").choices(["always", "if-not-present", "never"] as const).default("if-not-present" as const))
    .addOption(configOption())
    .addOption(new Option("--shell <shell>", "the job shell").choices(["bash", "sh"] as const).default("bash" as const))
    .option("--needs", "run the named jobs with every job they wait for (their needs, or the earlier stages)")
    .option("--protected", "run as on a protected branch or tag: CI_COMMIT_REF_PROTECTED=true, protected caches")
    .option("--manual <job>", "play this manual job (repeatable)", collect, [] as string[])
    .option("-j, --concurrency <n>", "jobs that run at once, in the whole pipeline (default: cores)", positiveInteger)
    .option("--builds-dir <dir>", "where jobs run (default: .runner/builds)")
    .option("--no-color", "no colours (also NO_COLOR)")
    .option("--json", "print the run's events as JSON lines instead of the job logs")
    .option("--serve [address]", "serve the run's page live while it goes (PORT, HOST:PORT; 127.0.0.1 and a free port by default)")
    .option("--stay", "with --serve: keep serving after the run, until Ctrl-C")
    .option("--list", "list the jobs (stage, when, needs) and why any are left out; run nothing")
    .option("--list-json", "the same list as JSON")
    .option("--dry-run", "plan and validate the pipeline, run nothing")
    .option("--graph", "draw the jobs' DAG (what each waits for), run nothing")
    .option("--preview", "print the merged configuration GitLab would see (includes, extends, !reference resolved)")
    .option("--keep", "docker executor: keep a failed job's containers and print how to enter them (removed by the next run)")
    .option("--shell-on-failure", "docker executor: open a shell in a failed job's container, in its directory with its variables")
    .option("--no-cache", "parse the pipeline file even when it has not changed since the last run");
}
