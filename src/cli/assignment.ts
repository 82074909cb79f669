import type { VariableDefinition } from "../pipeline/definitions.ts";
import { UsageError } from "./exit-codes.ts";

/** `KEY=VALUE` from `--variable` (or `--input`). */
export function parseAssignment(text: string, flag = "--variable"): VariableDefinition {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`Invalid ${flag} "${text}": expected KEY=VALUE`);
  return { key: text.slice(0, eq), value: text.slice(eq + 1), raw: false };
}

/** `--input name=value` (repeatable): the pipeline's inputs by name. */
export function parseInputs(texts: readonly string[]): Record<string, string> {
  return Object.fromEntries(texts.map((text) => parseAssignment(text, "--input")).map((v) => [v.key, v.value]));
}
