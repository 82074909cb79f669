import { Option } from "@commander-js/extra-typings";
import { configOption, positiveInteger, type Registration } from "./command-kit.ts";

/** `runner register`: a runner added to config.toml. */
export const registerRegister: Registration = (program, ctx) => {
  program
    .command("register")
    .description("Add a runner to config.toml: a glrt- token is verified, a registration token registers")
    .addOption(configOption())
    .addOption(new Option("-u, --url <url>", "GitLab instance URL").env("CI_SERVER_URL"))
    .addOption(new Option("-t, --token <token>", "runner authentication token (glrt-…)").env("CI_SERVER_TOKEN"))
    .addOption(new Option("--runner-token <token>", "the same, under its other name").env("RUNNER_TOKEN").hideHelp())
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
      const { register } = await import("../registration.ts");
      ctx.exit(await register({
        env: ctx.env, say: ctx.say, configFile: opts.config, url: opts.url, token: opts.token ?? opts.runnerToken,
        registrationToken: opts.registrationToken, executor: opts.executor, name: opts.description, shell: opts.shell,
        buildsDir: opts.buildsDir, cacheDir: opts.cacheDir, tagList: opts.tagList, runUntagged: opts.runUntagged,
        locked: opts.locked, paused: opts.paused, limit: opts.limit,
      }));
    });
};

/** `runner verify`, `unregister` and `list`: the runners of config.toml. */
export const registerRunnerAdmin: Registration = (program, ctx) => {
  const io = { env: ctx.env, say: ctx.say };
  program
    .command("verify")
    .description("Check with GitLab that each configured runner's token is valid")
    .addOption(configOption())
    .option("--delete", "remove runners whose tokens are not valid")
    .action(async (opts) => {
      const { verify } = await import("../registration.ts");
      ctx.exit(await verify({ ...io, configFile: opts.config, delete: opts.delete }));
    });
  program
    .command("unregister")
    .description("Remove runners from GitLab and from config.toml")
    .addOption(configOption())
    .option("--name <name>", "the runner with this name")
    .option("-t, --token <token>", "the runner with this token")
    .option("--all-runners", "every runner in config.toml")
    .action(async (opts) => {
      const { unregister } = await import("../registration.ts");
      ctx.exit(await unregister({ ...io, configFile: opts.config, name: opts.name, token: opts.token, allRunners: opts.allRunners }));
    });
  program
    .command("list")
    .description("List the runners in config.toml")
    .addOption(configOption())
    .action(async (opts) => {
      const { list } = await import("../registration.ts");
      ctx.exit(await list({ ...io, configFile: opts.config, print: (line) => process.stdout.write(`${line}\n`) }));
    });
};
