#!/usr/bin/env bun
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { badInputMessage } from "./src/cli/bad-input.ts";
import { startExecPrefetch } from "./src/cli/exec-prefetch.ts";
import { EXIT } from "./src/cli/exit-codes.ts";
import { REVISION, VERSION } from "./src/version.ts";

/** Parses the command line, wires the parts, maps errors to exit codes. */
async function main(argv: readonly string[]): Promise<number> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  let exitCode: number = EXIT.ok;
  const program = new Command("runner")
    .description("A single-binary CI job runner that speaks GitLab's protocol.")
    .version(`${VERSION} (${REVISION.slice(0, 8)})`, "-V, --version")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`Error: ${text.replace(/^error: /, "")}`) })
    .showHelpAfterError('(run "runner --help" for usage)');

  program
    .command("exec")
    .description("Run jobs of the local .gitlab-ci.yml (all of them, stage by stage, when none is named)")
    .argument("[jobs...]", "jobs to run")
    .option("-f, --file <path>", "the pipeline file", ".gitlab-ci.yml")
    .option("--cwd <dir>", "the project directory", ".")
    .option("-v, --variable <KEY=VALUE>", "a pipeline variable, beats the file's (repeatable)", collect, [] as string[])
    .addOption(new Option("--executor <name>", "where jobs run").choices(["shell"] as const).default("shell" as const))
    .addOption(new Option("--shell <shell>", "the job shell").choices(["bash", "sh"] as const).default("bash" as const))
    .option("-j, --concurrency <n>", "jobs of a stage that run at once (default: cores)", positiveInteger)
    .option("--builds-dir <dir>", "where jobs run (default: .runner/builds)")
    .option("--no-color", "no colours (also NO_COLOR)")
    .option("--no-cache", "parse the pipeline file even when it has not changed since the last run")
    .action(async (jobs, opts) => {
      // git starts first and runs while the parser and the job machinery load.
      const prefetch = startExecPrefetch(opts.cwd, env);
      const { execCommand } = await import("./src/cli/exec.ts");
      exitCode = await execCommand({
        jobs,
        file: opts.file,
        prefetch,
        variables: opts.variable,
        executor: opts.executor,
        shell: opts.shell,
        concurrency: opts.concurrency,
        buildsDir: opts.buildsDir,
        cache: opts.cache,
        color: opts.color && process.stdout.isTTY === true && !env.NO_COLOR,
        print: (text) => process.stdout.write(text),
        printError: (text) => process.stderr.write(`${text}\n`),
        env,
      });
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

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const message = badInputMessage(error);
  process.stderr.write(`Error: ${message ?? (error instanceof Error ? error.message : String(error))}\n`);
  process.exitCode = message !== undefined ? EXIT.badInput : EXIT.jobFailed;
}
