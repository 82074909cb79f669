import { ConfigError } from "./config-error.ts";

const MAX_NESTING = 11;

type Hash = Record<string, unknown>;

/**
 * Resolves `extends` on every entry of the merged configuration: parents are deep-merged in order
 * (hashes merged, arrays and scalars replaced), the entry's own keys last (gitlab-ci-yaml.md §7.1).
 */
export function resolveExtends(config: Hash): Hash {
  const resolved = new Map<string, Hash>();
  const resolve = (key: string, chain: readonly string[]): Hash => {
    const done = resolved.get(key);
    if (done) return done;
    const entry = config[key] as Hash;
    const parents = parentNames(key, entry.extends);
    if (parents.length === 0) return entry;
    if (chain.includes(key)) throw new ConfigError(`${key}: circular dependency detected in \`extends\``);
    if (chain.length >= MAX_NESTING) throw new ConfigError(`${key}: nesting too deep in \`extends\``);
    const unknown = parents.filter((p) => !(p in config));
    if (unknown.length > 0) throw new ConfigError(`${key}: unknown keys in \`extends\` (${unknown.join(", ")})`);
    const invalid = parents.filter((p) => !isHash(config[p]));
    if (invalid.length > 0) throw new ConfigError(`${key}: invalid base hashes in \`extends\` (${invalid.join(", ")})`);
    let merged: Hash = {};
    for (const parent of parents) merged = deepMerge(merged, resolve(parent, [...chain, key]));
    const { extends: _ignored, ...own } = entry;
    const result = deepMerge(merged, own);
    delete result.extends;
    resolved.set(key, result);
    return result;
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
