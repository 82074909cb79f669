import { InvalidArgumentError, Option, type Command } from "@commander-js/extra-typings";
import { isTerminal } from "../terminal-output.ts";

/** What every command is registered with: the command line, the environment and where its exit code goes. */
export interface CommandContext {
  /** The command line after `runner`: its first word names the command. */
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
  /** A line for the person at the terminal (stderr). */
  readonly say: (line: string) => void;
  /** The command's exit code. */
  exit(code: number): void;
}

/** A command of `runner`, adding itself to the program. */
export type Registration = (program: Command, ctx: CommandContext) => void;

/**
 * Adds a group of options (the ssh executor's, the shared cache's) to `command` unless this command
 * line is certain not to use them: it runs `command` itself (not help, not completion), names no
 * flag with one of the group's prefixes (`--ssh-`, `--cache-`: a mistyped one still gets
 * commander's suggestion) and no variable of the group's is set. Registering and parsing the 33
 * options of `runner exec`'s two groups cost a trivial run 2.9 ms (3 x 8 runs: registration 3.6 ->
 * 1.6 ms, parsing 2.1 -> 1.2 ms).
 */
export function addOptionsIfUsed<C extends Command<any, any, any>>(command: C, ctx: CommandContext, options: readonly Option[]): C {
  const prefixes = [...new Set(options.map((o) => /^--[^-]+-/.exec(o.long ?? "")?.[0]).filter((p): p is string => p !== undefined))];
  const unused = ctx.argv[0] === command.name() &&
    !ctx.argv.some((word) => word === "-h" || word === "--help" || prefixes.some((prefix) => word.startsWith(prefix))) &&
    !options.some((o) => o.envVar !== undefined && ctx.env[o.envVar] !== undefined);
  if (!unused) for (const option of options) command.addOption(option);
  return command;
}

/** `--config`, as GitLab Runner's (CONFIG_FILE). */
export function configOption() {
  return new Option("-c, --config <file>", "config.toml (default: /etc/gitlab-runner/config.toml as root, else ~/.gitlab-runner/config.toml)").env("CONFIG_FILE");
}

/** A repeatable option's values. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("expected a port number (1-65535)");
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

/** Colour on a terminal, unless `--no-color` or NO_COLOR. */
export function useColor(flag: boolean, env: Record<string, string>): boolean {
  return flag && isTerminal(1) && !env.NO_COLOR;
}
