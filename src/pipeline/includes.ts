import { ConfigError } from "./config-error.ts";
import { deepMerge, isHash } from "./extends.ts";
import { includeTargets, type IncludeMap, type ProjectFiles } from "./include-targets.ts";
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
  /** Where other projects', remote and template includes are found offline (`.runner/includes.yml`). */
  readonly map?: IncludeMap;
  /** Set when the result depends on more than files: an `include:rules` was evaluated, or a ref was read. */
  uncacheable?: boolean;
}

type Hash = Record<string, unknown>;

/**
 * Resolves `include:` (docs/pipeline.md §7.4): depth first, in list order; what is included is merged
 * first and the including file on top (the including file wins; hashes merge, the rest replaces).
 * `local` files (with `*`/`**` globs) come from the project whose file includes them; `project`,
 * `component`, `remote` and `template` from the include map (a component of this project from its
 * own files), else they are refused with a clear error.
 */
export function resolveIncludes(
  config: Hash,
  reader: IncludeReader,
  counter = { count: 0 },
  files: ProjectFiles = { read: (p) => reader.read(p), glob: (p) => reader.glob(p), source: (p) => p },
): Hash {
  const { include, ...own } = config;
  if (include === undefined || include === null) return own;
  const items = Array.isArray(include) ? include : [include];
  const variables = reader.context?.variables ?? {};
  let merged: Hash = {};
  for (const item of items) {
    if (isHash(item) && item.rules !== undefined && item.rules !== null) reader.uncacheable = true;
    if (!includedByRules(item, reader.context)) continue;
    const inputs = isHash(item) && isHash(item.inputs) ? item.inputs : {};
    for (const target of includeTargets(item, { files, variables, ...(reader.map ? { map: reader.map } : {}) })) {
      const { location, text } = target;
      if (++counter.count > MAX_INCLUDES) throw new ConfigError(`Maximum of ${MAX_INCLUDES} nested includes are allowed!`);
      if (target.checkExtension && !/\.ya?ml$/i.test(location)) throw new ConfigError(`Included file \`${location}\` does not have YAML extension!`);
      if (text === undefined) throw new ConfigError(target.missing);
      if (text.trim() === "") throw new ConfigError(`Local file \`${location}\` is empty!`);
      if (target.source === undefined) reader.uncacheable = true;
      else reader.sources.push({ path: target.source, hash: Bun.hash(text).toString(16) });
      const file = reader.parse(location, text);
      const parsed = interpolateInputs(file, { given: inputs, where: location, variables });
      if (!isHash(parsed)) throw new ConfigError(`Included file \`${location}\` does not have valid YAML syntax!`);
      merged = deepMerge(merged, resolveIncludes(parsed, reader, counter, target.files));
    }
  }
  return deepMerge(merged, own);
}

/** `include:rules` (docs/pipeline.md §6.5): the file is included when a rule matches with a `when` other than `never`. */
function includedByRules(item: unknown, context: RuleContext | undefined): boolean {
  if (!isHash(item) || item.rules === undefined || item.rules === null) return true;
  const rules = readRules(item.rules, "include:rules", undefined, "include");
  const rule = firstMatchingRule(rules, context ?? { variables: {}, changedFiles: () => undefined, trackedFiles: () => [] });
  return rule !== undefined && rule.when !== "never";
}
