import { ConfigError } from "./config-error.ts";
import { deepMerge, isHash } from "./extends.ts";
import { interpolateInputs } from "./inputs.ts";
import { firstMatchingRule, readRules, type RuleContext } from "./rules.ts";
import type { YamlFile } from "./yaml-file.ts";

const MAX_INCLUDES = 150;

/** How includes reach files: the project's root, reading, globbing and parsing, and a log of what was read. */
export interface IncludeReader {
  read(path: string): string | undefined;
  glob(pattern: string): string[];
  parse(path: string, text: string): YamlFile;
  /** Every included file read, with the hash of its text (so a cached plan knows when to look again). */
  readonly sources: { path: string; hash: string }[];
  /** What `include:rules` are evaluated against (the include-safe variables, the changed and tracked files). */
  readonly context?: RuleContext;
  /** Set when an `include:rules` was evaluated (the result depends on the run). */
  ruled?: boolean;
}

type Hash = Record<string, unknown>;

/**
 * Resolves `include:` (gitlab-ci-yaml.md §7.4): depth first, in list order; what is included is merged
 * first and the including file on top (the including file wins; hashes merge, the rest replaces).
 * `local` files (with `*`/`**` globs) come from the project; `remote`, `project`, `template` and
 * `component` need the network or another project and are refused with a clear error.
 */
export function resolveIncludes(config: Hash, reader: IncludeReader, counter = { count: 0 }): Hash {
  const { include, ...own } = config;
  if (include === undefined || include === null) return own;
  const items = Array.isArray(include) ? include : [include];
  let merged: Hash = {};
  for (const item of items) {
    if (isHash(item) && item.rules !== undefined && item.rules !== null) reader.ruled = true;
    if (!includedByRules(item, reader.context)) continue;
    const inputs = isHash(item) && isHash(item.inputs) ? item.inputs : {};
    for (const path of localPaths(item, reader)) {
      if (++counter.count > MAX_INCLUDES) throw new ConfigError(`Maximum of ${MAX_INCLUDES} nested includes are allowed!`);
      if (!/\.ya?ml$/i.test(path)) throw new ConfigError(`Included file \`${path}\` does not have YAML extension!`);
      const text = reader.read(path);
      if (text === undefined) throw new ConfigError(`Local file \`${path}\` does not exist!`);
      if (text.trim() === "") throw new ConfigError(`Local file \`${path}\` is empty!`);
      reader.sources.push({ path, hash: Bun.hash(text).toString(16) });
      const file = reader.parse(path, text);
      const parsed = interpolateInputs(file.header, file.value, inputs, path);
      if (!isHash(parsed)) throw new ConfigError(`Included file \`${path}\` does not have valid YAML syntax!`);
      merged = deepMerge(merged, resolveIncludes(parsed, reader, counter));
    }
  }
  return deepMerge(merged, own);
}

/** `include:rules` (§6.5): the file is included when a rule matches with a `when` other than `never`. */
function includedByRules(item: unknown, context: RuleContext | undefined): boolean {
  if (!isHash(item) || item.rules === undefined || item.rules === null) return true;
  const rules = readRules(item.rules, "include:rules", undefined, "include");
  const rule = firstMatchingRule(rules, context ?? { variables: {}, changedFiles: () => undefined, trackedFiles: () => [] });
  return rule !== undefined && rule.when !== "never";
}

function localPaths(item: unknown, reader: IncludeReader): string[] {
  let local: unknown;
  if (typeof item === "string") {
    if (/^https?:\/\//.test(item)) refuse("remote", item);
    local = item;
  } else if (isHash(item)) {
    for (const kind of ["remote", "project", "template", "component"] as const) {
      if (kind in item) refuse(kind, String(item[kind]));
    }
    local = item.local;
  }
  if (typeof local !== "string") throw new ConfigError(`Included file \`${JSON.stringify(item)}\` needs to be a string`);
  const path = local.replace(/^\/+/, "");
  if (!path.includes("*")) return [path];
  // The reader lists candidates with a wider pattern; GitLab's own meaning decides.
  const exact = includeGlob(path);
  return reader.glob(path.replace(/\*\*(?!\/)/g, "**/*")).filter((candidate) => exact.test(candidate)).sort();
}

/**
 * An `include:local` wildcard as GitLab reads it (§7.4): `*` stays within a directory, a `**`
 * followed by a slash stands for one or more subdirectories ("configs/**" + "/*.yml" is subfolders
 * only), a `**` elsewhere crosses directories (`configs/**.yml` is every level).
 */
function includeGlob(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith("**/", i)) { source += "(?:[^/]+/)+"; i += 2; }
    else if (pattern.startsWith("**", i)) { source += ".*"; i += 1; }
    else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function refuse(kind: string, location: string): never {
  throw new ConfigError(
    `include:${kind} \`${location}\` is not available offline: a local run reads only this project's files; ` +
      "copy the file into the project and include it with include:local",
  );
}
