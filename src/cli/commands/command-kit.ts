import { InvalidArgumentError, Option, type Command } from "@commander-js/extra-typings";

/** What every command is registered with: the environment and where its exit code goes. */
export interface CommandContext {
  readonly env: Record<string, string>;
  /** A line for the person at the terminal (stderr). */
  readonly say: (line: string) => void;
  /** The command's exit code. */
  exit(code: number): void;
}

/** A command of `runner`, adding itself to the program. */
export type Registration = (program: Command, ctx: CommandContext) => void;

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
  return flag && process.stdout.isTTY === true && !env.NO_COLOR;
}
