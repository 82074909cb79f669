import { ConfigError } from "./config-error.ts";

/** GitLab's MAX_NESTING_LEVELS: more ancestors than this on a chain is too deep. */
const MAX_ANCESTORS = 10;

type Hash = Record<string, unknown>;

/**
 * Resolves `extends` on every entry of the merged configuration: parents are deep-merged in order
 * (hashes merged, arrays and scalars replaced), the entry's own keys last (docs/pipeline.md §7.1).
 */
export function resolveExtends(config: Hash): Hash {
  // As GitLab's Extendable::Entry: each entry is extended afresh along its own chain of ancestors
  // (no memo, so the depth check sees the whole chain), checks in GitLab's order.
  const resolve = (key: string, ancestors: readonly string[]): Hash => {
    const entry = config[key] as Hash;
    const parents = parentNames(key, entry.extends);
    if (parents.length === 0) return entry;
    const unknown = parents.filter((p) => !(p in config));
    if (unknown.length > 0) throw new ConfigError(`${key}: unknown keys in \`extends\` (${unknown.join(", ")})`);
    const invalid = parents.filter((p) => !isHash(config[p]));
    if (invalid.length > 0) throw new ConfigError(`${key}: invalid base hashes in \`extends\` (${invalid.join(", ")})`);
    if (ancestors.length > MAX_ANCESTORS) throw new ConfigError(`${key}: nesting too deep in \`extends\``);
    if (ancestors.includes(key)) throw new ConfigError(`${key}: circular dependency detected in \`extends\``);
    let merged: Hash = {};
    for (const parent of parents) merged = deepMerge(merged, resolve(parent, [...ancestors, key]));
    const { extends: _ignored, ...own } = entry;
    return deepMerge(merged, own);
  };
  const out: Hash = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = isHash(value) && "extends" in value ? resolve(key, []) : value;
  }
  return out;
}

function parentNames(key: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value;
  throw new ConfigError(`${key}:extends config should be a string or an array of strings`);
}

/** GitLab's deep merge: hashes merge key by key; anything else on the right replaces the left. */
export function deepMerge(left: Hash, right: Hash): Hash {
  const out: Hash = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const current = out[key];
    out[key] = isHash(current) && isHash(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Whether `value` is a YAML mapping (a plain object, not a list or a boxed scalar). */
export function isHash(value: unknown): value is Hash {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
