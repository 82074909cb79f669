#!/usr/bin/env bun
import { Command, CommanderError } from "@commander-js/extra-typings";
import { badInputMessage } from "./src/cli/bad-input.ts";
import { registerRun, registerRunSingle } from "./src/cli/commands/daemon-commands.ts";
import { registerExec } from "./src/cli/commands/exec-command.ts";
import { registerHelper } from "./src/cli/commands/helper-command.ts";
import { registerLint } from "./src/cli/commands/lint-command.ts";
import { registerPrune } from "./src/cli/commands/prune-command.ts";
import { registerCompletion, registerRecordCommands } from "./src/cli/commands/record-commands.ts";
import { registerRegister, registerRunnerAdmin } from "./src/cli/commands/registration-commands.ts";
import type { Registration } from "./src/cli/commands/command-kit.ts";
import { EXIT } from "./src/cli/exit-codes.ts";
import { printable } from "./src/cli/printable.ts";
import { descriptorWriter } from "./src/cli/terminal-output.ts";
import { normalJitAfterStartUp } from "./src/cli/start-up-jit.ts";
import { REVISION, VERSION } from "./src/version.ts";

/**
 * The command line's command, by its first word, so that only it is registered (all of them, in
 * this order, for help or a word no command has).
 */
const COMMANDS: Readonly<Record<string, Registration>> = {
  exec: registerExec, lint: registerLint, run: registerRun, "run-single": registerRunSingle, register: registerRegister,
  verify: registerRunnerAdmin, unregister: registerRunnerAdmin, list: registerRunnerAdmin,
  show: registerRecordCommands, schema: registerRecordCommands, prune: registerPrune, helper: registerHelper,
};
const ALL_COMMANDS: readonly Registration[] = [...new Set(Object.values(COMMANDS))];

function commandsFor(first: string | undefined): readonly Registration[] {
  const only = first === undefined ? undefined : COMMANDS[first];
  if (only) return [only];
  return first === "-V" || first === "--version" ? [] : ALL_COMMANDS;
}

/** Wires the commands, parses the command line, maps errors to exit codes. */
async function main(argv: readonly string[]): Promise<number> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  let exitCode: number = EXIT.ok;
  // write(2) on fd 2, as commander's own output below: process.stderr is a stream made at first use (~4 ms).
  const writeErr = descriptorWriter(2);
  const ctx = { argv, env, say: (line: string) => writeErr(`${line}\n`), exit: (code: number) => void (exitCode = code) };
  const program = new Command("runner")
    .description("A single-binary CI job runner that speaks GitLab's protocol.")
    .version(`${VERSION} (${REVISION.slice(0, 8)})`, "-V, --version")
    .exitOverride()
    // write(2), not process.stdout, whose stream costs --version a third of its time (terminal-output.ts).
    .configureOutput({
      writeOut: descriptorWriter(1), writeErr,
      outputError: (text, write) => write(`Error: ${printable(text.replace(/^error: /, ""))}`),
    })
    .showHelpAfterError('(run "runner --help" for usage)');
  for (const register of commandsFor(argv[0])) register(program, ctx);
  await registerCompletion(program, argv);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and version end with code 0; everything else commander rejects is bad input.
    return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  return exitCode;
}

// Deprecation notices are for the authors of the libraries, not for the people running jobs.
process.noDeprecation = true;
normalJitAfterStartUp();
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const message = badInputMessage(error);
  process.stderr.write(`Error: ${printable(message ?? (error instanceof Error ? error.message : String(error)))}\n`);
  process.exitCode = message !== undefined ? EXIT.badInput : EXIT.jobFailed;
}
