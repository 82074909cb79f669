import { Option } from "@commander-js/extra-typings";
import { configOption, positiveInteger, positiveOrZero, type Registration } from "./command-kit.ts";
import { addExecutorFlags, customSectionOf, sshSectionOf, type ExecutorFlagValues } from "./executor-flags.ts";
import { addCacheFlags, cacheSectionOf, type CacheFlagValues } from "./cache-flags.ts";

const writeLog = (line: string) => void process.stderr.write(line);

/** `runner run`: the daemon for every `[[runners]]` of config.toml. */
export const registerRun: Registration = (program, ctx) => {
  program
    .command("run")
    .description("Run the daemon: ask GitLab for jobs for every runner in config.toml and run them")
    .addOption(configOption())
    .option("--listen-address <host:port>", "serve Prometheus metrics here (overrides listen_address)")
    .action(async (opts) => {
      const { runDaemon } = await import("../daemon.ts");
      ctx.exit(await runDaemon({ env: ctx.env, configFile: opts.config, listenAddress: opts.listenAddress, writeLog }));
    });
};

/** `runner run-single`: one runner from flags, or GitLab Runner's variables for them. */
export const registerRunSingle: Registration = (program, ctx) => {
  const command = program
    .command("run-single")
    .description("Run one runner given on the command line, without a config file")
    .addOption(new Option("-u, --url <url>", "GitLab instance URL").env("CI_SERVER_URL"))
    .addOption(new Option("-t, --token <token>", "runner authentication token").env("CI_SERVER_TOKEN"))
    .addOption(new Option("--runner-token <token>", "the same, under its other name").env("RUNNER_TOKEN").hideHelp())
    .addOption(new Option("--executor <executor>", "executor (shell, ssh, docker, custom)").env("RUNNER_EXECUTOR").default("shell"))
    .addOption(new Option("--name <name>", "runner name").env("RUNNER_NAME").default("run-single"))
    .addOption(new Option("--shell <shell>", "bash or sh").env("RUNNER_SHELL"))
    .addOption(new Option("--builds-dir <dir>", "where builds are stored").env("RUNNER_BUILDS_DIR"))
    .addOption(new Option("--cache-dir <dir>", "where caches are stored").env("RUNNER_CACHE_DIR"))
    .addOption(new Option("--docker-image <image>", "docker executor: the image of jobs that name none").env("DOCKER_IMAGE"))
    .addOption(new Option("--docker-helper-image <image>", "docker executor: the helper image").env("DOCKER_HELPER_IMAGE"))
    .addOption(new Option("--docker-pull-policy <policy>", "docker executor: when images are pulled").env("DOCKER_PULL_POLICY"))
    .option("--max-builds <n>", "stop after this many jobs (0: no limit)", positiveOrZero)
    .option("--wait-timeout <seconds>", "stop when no job came within this many seconds (0: wait forever)", positiveOrZero)
    .option("--output-limit <KiB>", "maximum trace size", positiveInteger)
    .option("--listen-address <host:port>", "serve Prometheus metrics here");
  addCacheFlags(addExecutorFlags(command)).action(async (opts) => {
      const { runSingle } = await import("../daemon.ts");
      const flags = opts as ExecutorFlagValues;
      const cache = cacheSectionOf(opts as CacheFlagValues);
      ctx.exit(await runSingle({
        ssh: sshSectionOf(flags), custom: customSectionOf(flags), ...(cache ? { cache } : {}),
        env: ctx.env, writeLog, url: opts.url, token: opts.token ?? opts.runnerToken, executor: opts.executor, name: opts.name,
        shell: opts.shell, buildsDir: opts.buildsDir, cacheDir: opts.cacheDir,
        docker: { image: opts.dockerImage, helperImage: opts.dockerHelperImage, pullPolicy: opts.dockerPullPolicy }, maxBuilds: opts.maxBuilds || undefined,
        waitTimeout: opts.waitTimeout || undefined, outputLimit: opts.outputLimit, listenAddress: opts.listenAddress,
      }));
    });
};
