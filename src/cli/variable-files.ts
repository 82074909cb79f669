import { parse } from "dotenv";
import { join } from "node:path";
import type { VariableDefinition } from "../pipeline/definitions.ts";
import { UsageError } from "./exit-codes.ts";

/** The files a project keeps its own variables in, read when present (like GitLab's project settings). */
export const PROJECT_VARIABLES_FILE = ".runner/variables.env";
export const PROJECT_SECRETS_FILE = ".runner/secrets.env";

/**
 * Project variables of a local run, as GitLab's project CI/CD settings: above the file's and the
 * dotenv reports', below `--variable`. Dotenv files (parsed with `dotenv`): `.runner/variables.env`
 * and `--variables-file` give plain variables, `.runner/secrets.env` and `--secrets-file` masked
 * ones (their values never reach a trace or a record). Later files win.
 */
export async function readVariableFiles(options: {
  cwd: string;
  variablesFiles: readonly string[];
  secretsFiles: readonly string[];
}): Promise<VariableDefinition[]> {
  const sources = [
    { path: join(options.cwd, PROJECT_VARIABLES_FILE), masked: false, required: false },
    ...options.variablesFiles.map((path) => ({ path: join(options.cwd, path), masked: false, required: true, flag: "--variables-file" })),
    { path: join(options.cwd, PROJECT_SECRETS_FILE), masked: true, required: false },
    ...options.secretsFiles.map((path) => ({ path: join(options.cwd, path), masked: true, required: true, flag: "--secrets-file" })),
  ];
  const texts = await Promise.all(sources.map(async (source) => {
    const file = Bun.file(source.path);
    if (await file.exists()) return file.text();
    if (source.required) throw new UsageError(`Cannot read ${"flag" in source ? source.flag : ""} ${source.path}: no such file`);
    return undefined;
  }));
  const byKey = new Map<string, VariableDefinition>();
  for (const [i, text] of texts.entries()) {
    if (text === undefined) continue;
    for (const [key, value] of Object.entries(parse(text))) {
      byKey.delete(key);
      byKey.set(key, { key, value, raw: false, ...(sources[i]!.masked ? { masked: true as const } : {}) });
    }
  }
  return [...byKey.values()];
}
