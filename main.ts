#!/usr/bin/env bun
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { badInputMessage, execCommand } from "./src/cli/exec.ts";
import { EXIT } from "./src/cli/exit-codes.ts";
import { REVISION, VERSION } from "./src/version.ts";

/** Parses the command line, wires the parts, maps errors to exit codes. */
async function main(argv: string[]): Promise<number> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  let exitCode: number = EXIT.ok;
  await yargs(argv)
    .scriptName("runner")
    .usage("$0 <command> [options]\n\nA single-binary CI job runner that speaks GitLab's protocol.")
    .command(
      "exec [jobs..]",
      "Run jobs of the local .gitlab-ci.yml (all of them, stage by stage, when none is named)",
      (y) =>
        y
          .positional("jobs", { type: "string", array: true, default: [] as string[], describe: "Jobs to run" })
          .option("file", { alias: "f", type: "string", default: ".gitlab-ci.yml", describe: "The pipeline file" })
          .option("cwd", { type: "string", default: ".", describe: "The project directory" })
          .option("variable", {
            alias: "v", type: "string", array: true, default: [] as string[],
            describe: "KEY=VALUE, a pipeline variable (beats the file's variables); repeatable",
          })
          .option("executor", { type: "string", choices: ["shell"] as const, default: "shell" as const })
          .option("shell", { type: "string", choices: ["bash", "sh"] as const, default: "bash" as const })
          .option("concurrency", { alias: "j", type: "number", describe: "Jobs of a stage run at once (default: cores)" })
          .option("builds-dir", { type: "string", describe: "Where jobs run (default: .runner/builds)" })
          .option("color", { type: "boolean", default: true, describe: "Colour output (also NO_COLOR)" }),
      async (args) => {
        exitCode = await execCommand({
          jobs: args.jobs.map(String),
          file: args.file,
          cwd: args.cwd,
          variables: args.variable.map(String),
          executor: args.executor,
          shell: args.shell,
          concurrency: args.concurrency,
          buildsDir: args["builds-dir"],
          color: args.color && process.stdout.isTTY === true && !env.NO_COLOR,
          print: (text) => process.stdout.write(text),
          printError: (text) => process.stderr.write(`${text}\n`),
          env,
        });
      },
    )
    .completion("completion", "Print a shell completion script (bash, zsh)")
    .version(`${VERSION} (${REVISION.slice(0, 8)})`)
    .alias("version", "V")
    .help()
    .alias("help", "h")
    .strict()
    .demandCommand(1, "Name a command; see runner --help")
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`Error: ${message}\nRun "runner --help" for usage.\n`);
      exitCode = EXIT.badInput;
    })
    .parseAsync();
  return exitCode;
}

try {
  process.exitCode = await main(hideBin(process.argv));
} catch (error) {
  const message = badInputMessage(error);
  if (message !== undefined) {
    process.stderr.write(`Error: ${message}\n`);
    process.exitCode = EXIT.badInput;
  } else {
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.jobFailed;
  }
}
