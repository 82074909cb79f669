import { chmod, rename, writeFile } from "node:fs/promises";
import { parse, stringify, TomlError } from "smol-toml";
import { z } from "zod";
import { ConfigFileError } from "./config-file-error.ts";
import { configSchema, type Config } from "./config-schema.ts";

export { ConfigFileError };

/** A loaded config.toml and what in it was not understood. */
export interface LoadedConfig {
  readonly config: Config;
  /** One line per key GitLab Runner does not know, with its path. */
  readonly warnings: readonly string[];
}

/**
 * Reads config.toml as GitLab Runner does: unknown keys warn, a wrong type fails with the key's
 * path (`runners[0].limit: expected a number`), and `url`/`token` may use `$VAR`.
 */
export function parseConfig(text: string, file: string, env: Record<string, string> = {}): LoadedConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    if (error instanceof TomlError) throw new ConfigFileError(`${file}:${error.line}:${error.column}: ${firstLine(error.message)}`);
    throw error;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigFileError(`${file}: ${keyPath(issue.path)}: ${issue.message}`);
  }
  const warnings = unknownKeys(configSchema, raw, []).map((path) => `${file}: unknown key ${path}`);
  const config = result.data;
  for (const runner of config.runners) {
    runner.url = expandEnv(runner.url, env);
    runner.token = expandEnv(runner.token, env);
  }
  return { config, warnings };
}

/** Loads config.toml from disk. */
export async function loadConfig(file: string, env: Record<string, string> = {}): Promise<LoadedConfig> {
  const handle = Bun.file(file);
  if (!(await handle.exists())) throw new ConfigFileError(`${file}: no such file (create it with runner register)`);
  return parseConfig(await handle.text(), file, env);
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

function expandEnv(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => env[a ?? b] ?? "");
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
