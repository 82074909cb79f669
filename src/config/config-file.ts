import { chmod, rename, stat, writeFile } from "node:fs/promises";
import { parse, stringify, TomlError } from "smol-toml";
import { z } from "../zod-jitless.ts";
import { ConfigFileError } from "./config-file-error.ts";
import { reviewConfig } from "./config-checks.ts";
import { reviewHonesty } from "./config-honesty.ts";
import { configSchema, type Config } from "./config-schema.ts";

export { ConfigFileError };

/** A loaded config.toml and what in it was not understood. */
export interface LoadedConfig {
  readonly config: Config;
  /** One line per key GitLab Runner does not know, and per key that has no effect here, with its path. */
  readonly warnings: readonly string[];
  /** What applies where a value is lenient (`check_interval = 0`: the default), for the log. */
  readonly notes: readonly string[];
}

/**
 * Reads config.toml as GitLab Runner does: unknown keys warn, and `url`/`token` may use `$VAR`. What
 * is wrong — a type (`runners[0].limit: expected a number`) or a value a job would only trip over
 * later (reviewConfig) — fails the load, every problem at once, each with its key's path.
 */
export function parseConfig(text: string, file: string, env: Record<string, string> = {}, executors?: readonly string[]): LoadedConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    if (error instanceof TomlError) throw new ConfigFileError(`${file}:${error.line}:${error.column}: ${firstLine(error.message)}`);
    throw error;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigFileError(result.error.issues.map((issue) => `${file}: ${keyPath(issue.path)}: ${issue.message}`).join("\n"));
  }
  const warnings = unknownKeys(configSchema, raw, []).map((path) => `${file}: unknown key ${path}`);
  const config = result.data;
  const unset = new Map<string, string[]>();
  config.runners.forEach((runner, i) => {
    const missing: string[] = [];
    runner.url = expandEnv(runner.url, env, missing);
    runner.token = expandEnv(runner.token, env, missing);
    if (missing.length > 0) unset.set(`runners[${i}]`, missing);
  });
  const review = reviewConfig(config, unset, executors);
  const honesty = reviewHonesty(raw, config);
  const errors = [...review.errors, ...honesty.errors];
  if (errors.length > 0) throw new ConfigFileError(errors.map((e) => `${file}: ${e}`).join("\n"));
  return { config, warnings: [...warnings, ...honesty.warnings.map((w) => `${file}: ${w}`)], notes: review.notes.map((n) => `${file}: ${n}`) };
}

/** Loads config.toml from disk. */
/** Loads config.toml from disk; `executors` are the executor names a runner may use (unchecked when absent). */
export async function loadConfig(file: string, env: Record<string, string> = {}, executors?: readonly string[]): Promise<LoadedConfig> {
  const found = await stat(file).catch(() => undefined);
  if (!found) throw new ConfigFileError(`${file}: no such file (create it with runner register)`);
  if (found.isDirectory()) throw new ConfigFileError(`${file}: is a directory, not a config.toml`);
  return parseConfig(await Bun.file(file).text(), file, env, executors);
}


/** Writes config.toml atomically with mode 0600, as GitLab Runner does (it holds tokens). */
export async function saveConfig(file: string, config: Config): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${stringify(config)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** The keys of `value` the schema does not name, as paths like `runners[0].docker.colour`. */
export function unknownKeys(schema: z.ZodType, value: unknown, path: (string | number)[]): string[] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const shape = inner.shape as Record<string, z.ZodType>;
    return Object.entries(value).flatMap(([key, child]) =>
      key in shape ? unknownKeys(shape[key]!, child, [...path, key]) : [keyPath([...path, key])],
    );
  }
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    return value.flatMap((child, i) => unknownKeys(inner.element as z.ZodType, child, [...path, i]));
  }
  return [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("") || "(top)";
}

/** `$VAR` and `${VAR}` from the runner's environment; the names of unset ones go to `missing`. */
function expandEnv(value: string, env: Record<string, string>, missing: string[]): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => {
    const name = (a ?? b) as string;
    if (env[name] === undefined) missing.push(name);
    return env[name] ?? "";
  });
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
