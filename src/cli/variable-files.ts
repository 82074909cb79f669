import { unreadable } from "./file-kind.ts";
import { join, resolve } from "node:path";
import type { VariableDefinition } from "../pipeline/definitions.ts";
import { UsageError } from "./exit-codes.ts";

/** The files a project keeps its own variables in, read when present (like GitLab's project settings). */
export const PROJECT_VARIABLES_FILE = ".runner/variables.env";
export const PROJECT_SECRETS_FILE = ".runner/secrets.env";

/**
 * Project variables of a local run, as GitLab's project CI/CD settings: above the file's and the
 * dotenv reports', below `--variable`. Dotenv files (parsed with `dotenv`), or YAML ones (`.yml`,
 * which can declare file variables): `.runner/variables.env` and `--variables-file` give plain
 * variables, `.runner/secrets.env` and `--secrets-file` masked ones (their values never reach a
 * trace or a record). Later files win.
 */
export async function readVariableFiles(options: {
  cwd: string;
  variablesFiles: readonly string[];
  secretsFiles: readonly string[];
}): Promise<VariableDefinition[]> {
  const sources = [
    { path: join(options.cwd, PROJECT_VARIABLES_FILE), masked: false, required: false },
    // An absolute path stays one; a relative one is the project's.
    ...options.variablesFiles.map((path) => ({ path: resolve(options.cwd, path), masked: false, required: true, flag: "--variables-file" })),
    { path: join(options.cwd, PROJECT_SECRETS_FILE), masked: true, required: false },
    ...options.secretsFiles.map((path) => ({ path: resolve(options.cwd, path), masked: true, required: true, flag: "--secrets-file" })),
  ];
  const texts = await Promise.all(sources.map(async (source) => {
    const why = await unreadable(source.path);
    if (!why) return Bun.file(source.path).text();
    if (source.required) throw new UsageError(`Cannot read ${"flag" in source ? source.flag : ""} ${source.path}: ${why}`);
    return undefined;
  }));
  const byKey = new Map<string, VariableDefinition>();
  for (const [i, text] of texts.entries()) {
    if (text === undefined) continue;
    const source = sources[i]!;
    const entries = /\.ya?ml$/i.test(source.path) ? await yamlVariables(source.path, text) : await dotenvVariables(text);
    for (const entry of entries) {
      byKey.delete(entry.key);
      byKey.set(entry.key, source.masked ? { ...entry, masked: true } : entry);
    }
  }
  return [...byKey.values()];
}

/** A dotenv file's variables; dotenv (and the built-ins it requires, node:url among them) loads only when there is one. */
async function dotenvVariables(text: string): Promise<VariableDefinition[]> {
  const { parse } = await import("dotenv");
  return Object.entries(parse(text)).map(([key, value]) => ({ key, value, raw: false }));
}

/**
 * A YAML variables file, for what dotenv cannot say: `KEY: value`, or `KEY: { value, file: true,
 * masked: true }` — a file variable is written to a file whose path the job's variable holds, as
 * GitLab's file-type project variables are.
 */
async function yamlVariables(path: string, text: string): Promise<VariableDefinition[]> {
  const { parse: parseYaml } = await import("yaml");
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (document === null || document === undefined) return [];
  if (typeof document !== "object" || Array.isArray(document)) throw new UsageError(`${path}: expected KEY: value entries`);
  return Object.entries(document as Record<string, unknown>).map(([key, entry]) => {
    if (entry === null || typeof entry !== "object") return { key, value: entry === null ? "" : String(entry), raw: false };
    const fields = entry as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !["value", "file", "masked"].includes(k));
    if (unknown.length > 0) throw new UsageError(`${path}: ${key}: unknown key ${unknown.join(", ")} (value, file and masked are known)`);
    return {
      key, value: fields.value === undefined || fields.value === null ? "" : String(fields.value), raw: false,
      ...(fields.file === true ? { file: true as const } : {}), ...(fields.masked === true ? { masked: true as const } : {}),
    };
  });
}
