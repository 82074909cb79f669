import type { JobVariable } from "../protocol/types.ts";

/** A job variable after the runner's expansion pass: what a stage script exports. */
export interface ResolvedVariable {
  readonly key: string;
  /** The expanded value; for a file variable, its content. */
  readonly value: string;
  readonly file: boolean;
  readonly masked: boolean;
}

/**
 * The runner's single expansion pass (docs/protocol.md §11.4, docs/pipeline.md §5.2): the last
 * occurrence of a key wins; every value that is not `raw` is expanded against the unexpanded list;
 * a reference to a file variable becomes the path of its file under `tmpDir`.
 */
export function resolveVariables(variables: readonly JobVariable[], tmpDir: string): ResolvedVariable[] {
  const latest = new Map<string, JobVariable>();
  for (const variable of variables) {
    latest.delete(variable.key);
    latest.set(variable.key, variable);
  }
  const lookup = (key: string): string => {
    const variable = latest.get(key);
    if (!variable) return "";
    return variable.file ? fileVariablePath(tmpDir, key) : variable.value;
  };
  return [...latest.values()].map((v) => ({
    key: v.key,
    value: v.raw ? v.value : expandVariables(v.value, lookup),
    file: v.file === true,
    masked: v.masked === true,
  }));
}

/** Where a file variable's content is written. */
export function fileVariablePath(tmpDir: string, key: string): string {
  return `${tmpDir}/${key}`;
}

/** The phrases to mask: values of masked variables, after expansion. */
export function maskedPhrases(variables: readonly ResolvedVariable[]): string[] {
  return variables.filter((v) => v.masked).map((v) => v.value);
}

/** The value of the last variable named `key`, if any. */
export function variableValue(variables: readonly { key: string; value: string }[], key: string): string | undefined {
  for (let i = variables.length - 1; i >= 0; i--) if (variables[i]!.key === key) return variables[i]!.value;
  return undefined;
}

/**
 * Go's `os.Expand` with GitLab Runner's mapping: `$VAR` and `${VAR}` are replaced (unknown ones by
 * the empty string), `$$` becomes `$`, the shell's special parameters (`$*`, `$#`, `$1`…) become empty,
 * a `$` not followed by a name stays, and a malformed `${…` is eaten.
 */
export function expandVariables(text: string, lookup: (key: string) => string): string {
  if (!text.includes("$")) return text;
  let out = "";
  let i = 0;
  for (let j = 0; j < text.length; j++) {
    if (text[j] !== "$" || j + 1 >= text.length) continue;
    out += text.slice(i, j);
    const { name, width } = shellName(text.slice(j + 1));
    if (name === "" && width === 0) out += "$";
    else if (name === "$") out += "$";
    else if (name !== "" && !isSpecial(name)) out += lookup(name);
    j += width;
    i = j + 1;
  }
  return out + text.slice(i);
}

function shellName(s: string): { name: string; width: number } {
  if (s[0] === "{") {
    if (s.length > 2 && isSpecial(s[1]!) && s[2] === "}") return { name: s[1]!, width: 3 };
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "}") return i === 1 ? { name: "", width: 2 } : { name: s.slice(1, i), width: i + 1 };
    }
    return { name: "", width: 1 };
  }
  if (isSpecial(s[0]!)) return { name: s[0]!, width: 1 };
  let i = 0;
  while (i < s.length && /[A-Za-z0-9_]/.test(s[i]!)) i++;
  return { name: s.slice(0, i), width: i };
}

function isSpecial(c: string): boolean {
  return c.length === 1 && "*#$@!?-0123456789".includes(c);
}
