import { posix } from "node:path";
import type { JobCommand } from "../trace/job-commands/grammar.ts";
import { parseCommandLine } from "../trace/job-commands/grammar.ts";
import type { CommandSource } from "../trace/job-commands/trace-commands.ts";
import type { BuildFiles } from "../executors/build-files.ts";
import type { JobTrace } from "../trace/job-trace.ts";

/** The variable that opts a job into commands that change it from its printed output. */
export const STDOUT_COMMANDS_VARIABLE = "RUNNER_STDOUT_COMMANDS";
/** The variable that names the command file of a stage. */
export const COMMAND_FILE_VARIABLE = "RUNNER_COMMAND_FILE";
/** Names a command may not set: the runner's and GitLab's own. */
const RESERVED = /^(CI_|GITLAB_|RUNNER_|FF_)|^(PATH|HOME)$/;

export interface CommandVariable {
  readonly value: string;
  readonly secret: boolean;
  /** `isoutput=true`: later jobs get it, as a dotenv report's. */
  readonly output: boolean;
  readonly readonly: boolean;
}

/**
 * What a job's commands changed for its later stages: variables, PATH, its result, files that join
 * its artifacts. Commands that change the job are taken from the command file (`$RUNNER_COMMAND_FILE`,
 * which only the job's own commands write); from the printed output only when the job sets
 * `RUNNER_STDOUT_COMMANDS=true`, since output can be anything a job prints — a test's log, a file of
 * a merge request — and must not set the environment of later stages (docs/job-commands.md).
 */
export class JobCommandState {
  readonly variables = new Map<string, CommandVariable>();
  readonly paths: string[] = [];
  readonly uploads: string[] = [];
  result: { readonly value: "Succeeded" | "SucceededWithIssues" | "Failed"; readonly message: string } | undefined;
  readonly #trustOutput: boolean;
  readonly #refused = new Set<string>();

  constructor(options: { readonly trustOutput: boolean }) {
    this.#trustOutput = options.trustOutput;
  }

  /** Takes a command that changes the job; a refusal comes back as a warning (once per command name). */
  accept(command: JobCommand, source: CommandSource): string | undefined {
    if (source === "output" && !this.#trustOutput) {
      if (this.#refused.has(command.name)) return undefined;
      this.#refused.add(command.name);
      return `${command.name} printed by the job is ignored: write it to $${COMMAND_FILE_VARIABLE}, or set ${STDOUT_COMMANDS_VARIABLE}=true to take it from the output`;
    }
    const { name, properties, message } = command;
    if (name === "task.setvariable") return this.#setVariable(properties, message);
    if (name === "task.prependpath") {
      if (message.trim() !== "") this.paths.unshift(message.trim());
      return undefined;
    }
    if (name === "task.complete") {
      const value = (["Succeeded", "SucceededWithIssues", "Failed"] as const).find((r) => r.toLowerCase() === (properties.result ?? "succeeded").toLowerCase());
      if (!value) return `task.complete: result=${properties.result} is not Succeeded, SucceededWithIssues or Failed`;
      // A later Succeeded does not undo a Failed.
      if (this.result?.value !== "Failed") this.result = { value, message };
      return undefined;
    }
    if (name === "task.uploadfile" || name === "artifact.upload") {
      if (message.trim() !== "") this.uploads.push(message.trim());
      return undefined;
    }
    return undefined;
  }

  #setVariable(p: Readonly<Record<string, string>>, value: string): string | undefined {
    const name = p.variable ?? "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `task.setvariable: "${name}" is not a variable name`;
    if (RESERVED.test(name)) return `task.setvariable: ${name} is the runner's or GitLab's own and is not set`;
    if (this.variables.get(name)?.readonly) return `task.setvariable: ${name} is read-only`;
    this.variables.set(name, { value, secret: p.issecret === "true", output: p.isoutput === "true", readonly: p.isreadonly === "true" });
    return undefined;
  }

  /** The variables and PATH entries later stages get, as `KEY=value` pairs for the stage script. */
  environment(): { key: string; value: string }[] {
    return [...this.variables].map(([key, v]) => ({ key, value: v.value }));
  }

  /** `isoutput=true` variables as a dotenv report (`KEY=VALUE` lines), if any. */
  dotenv(): string | undefined {
    const outputs = [...this.variables].filter(([, v]) => v.output);
    return outputs.length > 0 ? outputs.map(([k, v]) => `${k}=${v.value.replace(/\n/g, "\\n")}\n`).join("") : undefined;
  }
}

/** Where a stage's command file is: beside the project, in its temporary directory. */
export function commandFilePath(tmpDir: string): string {
  return posix.join(tmpDir, "runner-commands");
}

/** Applies what the stage wrote to its command file, then removes it. */
export async function readCommandFile(files: BuildFiles, tmpDir: string, trace: JobTrace): Promise<void> {
  const path = commandFilePath(tmpDir);
  const entry = await files.stat(path);
  if (!entry) return;
  if (entry.type === "file") {
    const chunks: Buffer[] = [];
    for await (const chunk of (await files.readInside(tmpDir, path)) as AsyncIterable<Buffer>) chunks.push(chunk);
    for (const line of Buffer.concat(chunks).toString("utf8").split("\n")) {
      const command = parseCommandLine(line);
      if (command) trace.fileCommand(command);
    }
  }
  await files.remove(path);
}
