#!/usr/bin/env bun
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { badInputMessage } from "./src/cli/bad-input.ts";
import { startExecPrefetch } from "./src/cli/exec-prefetch.ts";
import { EXIT, UsageError } from "./src/cli/exit-codes.ts";
import { printable } from "./src/cli/printable.ts";
import { REVISION, VERSION } from "./src/version.ts";

/** Parses the command line, wires the parts, maps errors to exit codes. */
async function main(argv: readonly string[]): Promise<number> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  let exitCode: number = EXIT.ok;
  const program = new Command("runner")
    .description("A single-binary CI job runner that speaks GitLab's protocol.")
    .version(`${VERSION} (${REVISION.slice(0, 8)})`, "-V, --version")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`Error: ${printable(text.replace(/^error: /, ""))}`) })
    .showHelpAfterError('(run "runner --help" for usage)');

  const configOption = () => new Option("-c, --config <file>", "config.toml (default: /etc/gitlab-runner/config.toml as root, else ~/.gitlab-runner/config.toml)").env("CONFIG_FILE");
  const io = { env, say: (line: string) => process.stderr.write(`${line}\n`) };

  program
    .command("exec")
    .description("Run jobs of the local .gitlab-ci.yml (all of them, stage by stage, when none is named)")
    .argument("[jobs...]", "jobs to run")
    .option("-f, --file <path>", "the pipeline file", ".gitlab-ci.yml")
    .option("--cwd <dir>", "the project directory", ".")
    .option("-v, --variable <KEY=VALUE>", "a pipeline variable, beats the file's (repeatable)", collect, [] as string[])
    .option("-i, --input <name=value>", "a pipeline input of the file's spec:inputs (repeatable)", collect, [] as string[])
    .option("--variables-file <file>", "a dotenv file of project variables (repeatable; .runner/variables.env is read when present)", collect, [] as string[])
    .option("--secrets-file <file>", "a dotenv file of masked variables (repeatable; .runner/secrets.env is read when present)", collect, [] as string[])
    .addOption(new Option("--executor <name>", "where every job runs (default: a job with an image in Docker when an engine answers, the others on the shell)").choices(["shell", "ssh", "docker"] as const))
    .option("--docker-image <image>", "docker executor: the image of jobs that name none")
    .option("--helper-image <image>", "docker executor: the image of the runner's own stages (default: runner-helper:<version>, else the job's image)")
    .addOption(new Option("--pull-policy <policy>", "docker executor: when images are pulled").choices(["always", "if-not-present", "never"] as const).default("if-not-present" as const))
    .option("--ssh-host <host>", "ssh executor: the host")
    .option("--ssh-port <port>", "ssh executor: the port (22)", portNumber)
    .option("--ssh-user <user>", "ssh executor: the user")
    .option("--ssh-password <password>", "ssh executor: the password")
    .option("--ssh-identity-file <file>", "ssh executor: the private key")
    .option("--ssh-known-hosts-file <file>", "ssh executor: known_hosts (~/.ssh/known_hosts)")
    .option("--ssh-disable-strict-host-key-checking", "ssh executor: accept any host key")
    .addOption(configOption())
    .addOption(new Option("--shell <shell>", "the job shell").choices(["bash", "sh"] as const).default("bash" as const))
    .option("--needs", "run the named jobs with every job they wait for (their needs, or the earlier stages)")
    .option("--protected", "run as on a protected branch or tag: CI_COMMIT_REF_PROTECTED=true, protected caches")
    .option("--manual <job>", "play this manual job (repeatable)", collect, [] as string[])
    .option("-j, --concurrency <n>", "jobs of a stage that run at once (default: cores)", positiveInteger)
    .option("--builds-dir <dir>", "where jobs run (default: .runner/builds)")
    .option("--no-color", "no colours (also NO_COLOR)")
    .option("--json", "print the run's events as JSON lines instead of the job logs")
    .option("--list", "list the jobs (stage, when, needs) and why any are left out; run nothing")
    .option("--list-json", "the same list as JSON")
    .option("--dry-run", "plan and validate the pipeline, run nothing")
    .option("--graph", "draw the jobs' DAG (what each waits for), run nothing")
    .option("--preview", "print the merged configuration GitLab would see (includes, extends, !reference resolved)")
    .option("--keep", "docker executor: keep a failed job's containers and print how to enter them (removed by the next run)")
    .option("--shell-on-failure", "docker executor: open a shell in a failed job's container, in its directory with its variables")
    .option("--no-cache", "parse the pipeline file even when it has not changed since the last run")
    .action(async (jobs, opts) => {
      // git starts first and runs while the parser and the job machinery load.
      const prefetch = startExecPrefetch(opts.cwd, env);
      const [{ execCommand }, { sshSectionFrom }] = await Promise.all([import("./src/cli/exec.ts"), import("./src/cli/exec-ssh.ts")]);
      const ssh = opts.executor === "ssh"
        ? await sshSectionFrom({
            configFile: opts.config, env, host: opts.sshHost, port: opts.sshPort, user: opts.sshUser, password: opts.sshPassword,
            identityFile: opts.sshIdentityFile, knownHostsFile: opts.sshKnownHostsFile,
            disableStrictHostKeyChecking: opts.sshDisableStrictHostKeyChecking,
          })
        : undefined;
      exitCode = await execCommand({
        jobs,
        file: opts.file,
        prefetch,
        variables: opts.variable,
        variablesFiles: opts.variablesFile,
        inputs: opts.input,
        secretsFiles: opts.secretsFile,
        ...(opts.executor ? { executor: opts.executor } : {}),
        ...(ssh ? { ssh } : {}),
        docker: { pullPolicy: opts.pullPolicy, ...(opts.dockerImage ? { image: opts.dockerImage } : {}), ...(opts.helperImage ? { helperImage: opts.helperImage } : {}) },
        shell: opts.shell,
        concurrency: opts.concurrency,
        withNeeds: opts.needs === true,
        protectedRef: opts.protected === true,
        manual: opts.manual,
        keep: opts.keep === true,
        ...(opts.listJson ? { list: "json" as const } : opts.list ? { list: "table" as const } : {}),
        dryRun: opts.dryRun === true,
        graph: opts.graph === true,
        preview: opts.preview === true,
        ...(opts.shellOnFailure ? { shellOnFailure: { stdin: process.stdin, stdout: process.stdout } } : {}),
        buildsDir: opts.buildsDir,
        cache: opts.cache,
        json: opts.json === true,
        terminal: process.stdout.isTTY === true,
        color: opts.color && process.stdout.isTTY === true && !env.NO_COLOR,
        print: (text) => process.stdout.write(text),
        printError: (text) => process.stderr.write(`${text}\n`),
        env,
      });
    });


  program
    .command("lint")
    .description("Check a .gitlab-ci.yml as GitLab's CI Lint does: every error with file, line and column (exit 2 when invalid)")
    .option("-f, --file <path>", "the pipeline file", ".gitlab-ci.yml")
    .option("--cwd <dir>", "the project directory", ".")
    .option("-i, --input <name=value>", "a pipeline input of the file's spec:inputs (repeatable)", collect, [] as string[])
    .option("--json", "print the report as JSON")
    .action(async (opts) => {
      const { lintCommand } = await import("./src/cli/lint.ts");
      exitCode = await lintCommand({
        cwd: opts.cwd, file: opts.file, inputs: opts.input, json: opts.json === true, env, print: (text) => process.stdout.write(text),
      });
    });

  program
    .command("run")
    .description("Run the daemon: ask GitLab for jobs for every runner in config.toml and run them")
    .addOption(configOption())
    .option("--listen-address <host:port>", "serve Prometheus metrics here (overrides listen_address)")
    .action(async (opts) => {
      const { runDaemon } = await import("./src/cli/daemon.ts");
      exitCode = await runDaemon({ env, configFile: opts.config, listenAddress: opts.listenAddress, writeLog: (line) => process.stderr.write(line) });
    });

  program
    .command("run-single")
    .description("Run one runner given on the command line, without a config file")
    .addOption(new Option("-u, --url <url>", "GitLab instance URL").env("CI_SERVER_URL"))
    .addOption(new Option("-t, --token <token>", "runner authentication token").env("CI_SERVER_TOKEN"))
    .addOption(new Option("--executor <executor>", "executor").env("RUNNER_EXECUTOR").default("shell"))
    .addOption(new Option("--name <name>", "runner name").env("RUNNER_NAME"))
    .addOption(new Option("--shell <shell>", "bash or sh").env("RUNNER_SHELL"))
    .addOption(new Option("--builds-dir <dir>", "where builds are stored").env("RUNNER_BUILDS_DIR"))
    .addOption(new Option("--cache-dir <dir>", "where caches are stored").env("RUNNER_CACHE_DIR"))
    .addOption(new Option("--docker-image <image>", "docker executor: the image of jobs that name none").env("DOCKER_IMAGE"))
    .addOption(new Option("--docker-helper-image <image>", "docker executor: the helper image").env("DOCKER_HELPER_IMAGE"))
    .addOption(new Option("--docker-pull-policy <policy>", "docker executor: when images are pulled").env("DOCKER_PULL_POLICY"))
    .option("--max-builds <n>", "stop after this many jobs (0: no limit)", positiveOrZero)
    .option("--wait-timeout <seconds>", "stop when no job came within this many seconds (0: wait forever)", positiveOrZero)
    .option("--output-limit <KiB>", "maximum trace size", positiveInteger)
    .option("--listen-address <host:port>", "serve Prometheus metrics here")
    .action(async (opts) => {
      const { runSingle } = await import("./src/cli/daemon.ts");
      exitCode = await runSingle({
        env, writeLog: (line) => process.stderr.write(line), url: opts.url, token: opts.token ?? env.RUNNER_TOKEN, executor: opts.executor, name: opts.name,
        shell: opts.shell, buildsDir: opts.buildsDir, cacheDir: opts.cacheDir,
        docker: { image: opts.dockerImage, helperImage: opts.dockerHelperImage, pullPolicy: opts.dockerPullPolicy }, maxBuilds: opts.maxBuilds || undefined,
        waitTimeout: opts.waitTimeout || undefined, outputLimit: opts.outputLimit, listenAddress: opts.listenAddress,
      });
    });

  program
    .command("register")
    .description("Add a runner to config.toml: a glrt- token is verified, a registration token registers")
    .addOption(configOption())
    .addOption(new Option("-u, --url <url>", "GitLab instance URL").env("CI_SERVER_URL"))
    .addOption(new Option("-t, --token <token>", "runner authentication token (glrt-…)").env("CI_SERVER_TOKEN"))
    .addOption(new Option("-r, --registration-token <token>", "legacy registration token (deprecated)").env("REGISTRATION_TOKEN"))
    .addOption(new Option("--executor <executor>", "executor").env("RUNNER_EXECUTOR").default("shell"))
    .addOption(new Option("--name, --description <name>", "runner name").env("RUNNER_NAME"))
    .addOption(new Option("--shell <shell>", "bash or sh").env("RUNNER_SHELL"))
    .addOption(new Option("--builds-dir <dir>", "where builds are stored").env("RUNNER_BUILDS_DIR"))
    .addOption(new Option("--cache-dir <dir>", "where caches are stored").env("RUNNER_CACHE_DIR"))
    .addOption(new Option("--tag-list <tags>", "comma-separated tags (registration tokens only)").env("RUNNER_TAG_LIST"))
    .option("--run-untagged", "run untagged jobs (registration tokens only)")
    .option("--locked", "lock to the project (registration tokens only)")
    .option("--paused", "register paused (registration tokens only)")
    .option("--limit <n>", "at most this many jobs at once", positiveInteger)
    .option("-n, --non-interactive", "never prompt (the only mode)")
    .action(async (opts) => {
      const { register } = await import("./src/cli/registration.ts");
      exitCode = await register({
        ...io, configFile: opts.config, url: opts.url, token: opts.token ?? env.RUNNER_TOKEN,
        registrationToken: opts.registrationToken, executor: opts.executor, name: opts.description, shell: opts.shell,
        buildsDir: opts.buildsDir, cacheDir: opts.cacheDir, tagList: opts.tagList, runUntagged: opts.runUntagged,
        locked: opts.locked, paused: opts.paused, limit: opts.limit,
      });
    });

  program
    .command("verify")
    .description("Check with GitLab that each configured runner's token is valid")
    .addOption(configOption())
    .option("--delete", "remove runners whose tokens are not valid")
    .action(async (opts) => {
      const { verify } = await import("./src/cli/registration.ts");
      exitCode = await verify({ ...io, configFile: opts.config, delete: opts.delete });
    });

  program
    .command("unregister")
    .description("Remove runners from GitLab and from config.toml")
    .addOption(configOption())
    .option("--name <name>", "the runner with this name")
    .option("-t, --token <token>", "the runner with this token")
    .option("--all-runners", "every runner in config.toml")
    .action(async (opts) => {
      const { unregister } = await import("./src/cli/registration.ts");
      exitCode = await unregister({ ...io, configFile: opts.config, name: opts.name, token: opts.token, allRunners: opts.allRunners });
    });

  program
    .command("list")
    .description("List the runners in config.toml")
    .addOption(configOption())
    .action(async (opts) => {
      const { list } = await import("./src/cli/registration.ts");
      exitCode = await list({ ...io, configFile: opts.config, print: (line) => process.stdout.write(`${line}\n`) });
    });

  program
    .command("show")
    .description("Show a recorded run again (the latest by default); --html writes a page of it")
    .argument("[run]", "a run id from .runner/runs (default: latest)")
    .option("--cwd <dir>", "the project directory", ".")
    .option("--html <file>", "write one self-contained HTML page of the run")
    .option("--no-color", "no colours (also NO_COLOR)")
    .action(async (run, opts) => {
      const { show } = await import("./src/cli/show.ts");
      exitCode = show({
        cwd: opts.cwd, ...(run ? { run } : {}), ...(opts.html ? { html: opts.html } : {}),
        color: opts.color && process.stdout.isTTY === true && !env.NO_COLOR, print: (text) => process.stdout.write(text),
      });
    });

  program
    .command("schema")
    .description("Print the JSON Schema of a run record file (event, job-summary, manifest, run-summary)")
    .argument("[name]", "which schema; none lists them")
    .action(async (name) => {
      const { SCHEMAS, SCHEMA_FILES } = await import("./src/record/schemas.ts");
      if (!name) {
        for (const [key, file] of Object.entries(SCHEMA_FILES)) process.stdout.write(`${key.padEnd(12)} ${file}\n`);
        return;
      }
      const schema = SCHEMAS[name as keyof typeof SCHEMAS];
      if (!schema) throw new UsageError(`No schema "${name}"; there are: ${Object.keys(SCHEMAS).join(", ")}`);
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });

  // The completion library is only loaded when a shell asks for completions; otherwise the command
  // is listed for --help alone.
  if (argv[0] === "completion" || argv[0] === "complete") {
    const { default: tab } = await import("@bomb.sh/tab/commander");
    tab(program as unknown as Parameters<typeof tab>[0], { completionCommandName: "completion" });
  } else {
    program.command("completion <shell>").description("Print a shell completion script (bash, zsh, fish, powershell)");
  }

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and version end with code 0; everything else commander rejects is bad input.
    return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  return exitCode;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("expected a port number (1-65535)");
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const message = badInputMessage(error);
  process.stderr.write(`Error: ${printable(message ?? (error instanceof Error ? error.message : String(error)))}\n`);
  process.exitCode = message !== undefined ? EXIT.badInput : EXIT.jobFailed;
}
