import { ConfigError, type SourcePosition } from "./config-error.ts";
import { isHash } from "./extends.ts";
import { rubyString } from "./ruby-scalars.ts";

/** `artifacts:` as written (plain data). */
export interface ArtifactsDefinition {
  readonly name?: string;
  readonly paths: readonly string[];
  readonly exclude: readonly string[];
  readonly untracked: boolean;
  readonly when: "on_success" | "on_failure" | "always";
  readonly expireIn?: string;
  /** `reports:` type → its paths. */
  readonly reports: Readonly<Record<string, readonly string[]>>;
}

/** One `cache:` entry as written. */
export interface CacheDefinition {
  readonly key: string | { readonly files: readonly string[]; readonly prefix?: string };
  readonly paths: readonly string[];
  readonly untracked: boolean;
  readonly policy: string;
  readonly when: "on_success" | "on_failure" | "always";
  readonly fallbackKeys: readonly string[];
}

const WHEN = ["on_success", "on_failure", "always"];
const ARTIFACT_KEYS = ["paths", "exclude", "untracked", "name", "when", "expire_in", "expose_as", "reports", "public", "access"];
const CACHE_KEYS = ["key", "paths", "untracked", "policy", "when", "fallback_keys", "unprotect"];

export function readArtifacts(value: unknown, location: string, position?: SourcePosition): ArtifactsDefinition | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash`, position);
  const unknown = Object.keys(value).filter((k) => !ARTIFACT_KEYS.includes(k));
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  const when = value.when === undefined ? "on_success" : String(value.when);
  if (!WHEN.includes(when)) throw new ConfigError(`${location} when should be on_success, on_failure or always`, position);
  const reports: Record<string, string[]> = {};
  if (isHash(value.reports)) {
    for (const [type, paths] of Object.entries(value.reports)) {
      if (typeof paths === "string") reports[type] = [paths];
      else if (Array.isArray(paths)) reports[type] = paths.map(String);
      else if (isHash(paths) && typeof paths.path === "string") reports[type] = [paths.path];
    }
  }
  return {
    ...(value.name !== undefined ? { name: rubyString(value.name) } : {}),
    paths: arrayOfStrings(value.paths, `${location} paths should be an array of strings`, position),
    exclude: strings(value.exclude, `${location}:exclude`, position),
    untracked: value.untracked === true,
    when: when as ArtifactsDefinition["when"],
    ...(value.expire_in !== undefined ? { expireIn: rubyString(value.expire_in) } : {}),
    reports,
  };
}

export function readCaches(value: unknown, location: string, position?: SourcePosition): CacheDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  // A list of caches inside the list (a YAML anchor of several) is flattened, as GitLab does.
  const list = Array.isArray(value) ? value.flat(10) : [value];
  if (list.length > 4) throw new ConfigError(`${location} config no more than 4 caches can be created`, position);
  return list.map((entry) => {
    if (!isHash(entry)) throw new ConfigError(`${location} config should be a hash`, position);
    const unknown = Object.keys(entry).filter((k) => !CACHE_KEYS.includes(k));
    if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
    let key: CacheDefinition["key"] = "default";
    if (isHash(entry.key)) {
      key = {
        files: keyFiles(entry.key.files, `${location}:key:files`, position),
        ...(entry.key.prefix !== undefined ? { prefix: rubyString(entry.key.prefix) } : {}),
      };
    } else if (entry.key !== undefined && entry.key !== null) {
      key = rubyString(entry.key);
      if (key.includes("/") || /%2f/i.test(key)) throw new ConfigError(`${location}:key config cannot contain the "/" character`, position);
      if (key === "." || key === "..") throw new ConfigError(`${location}:key config cannot be "." or ".."`, position);
    }
    const policy = entry.policy === undefined ? "pull-push" : String(entry.policy);
    if (!["pull-push", "pull", "push"].includes(policy) && !policy.startsWith("$")) {
      throw new ConfigError(`${location}:policy config should be a variable or one of: pull-push, push, pull`, position);
    }
    const when = entry.when === undefined ? "on_success" : String(entry.when);
    if (!WHEN.includes(when)) throw new ConfigError(`${location}:when config should be one of on_success, on_failure or always`, position);
    return {
      key, paths: arrayOfStrings(entry.paths, `${location}:paths config should be an array of strings`, position), untracked: entry.untracked === true, policy,
      when: when as CacheDefinition["when"], fallbackKeys: strings(entry.fallback_keys, `${location}:fallback_keys`, position),
    };
  });
}

/** A list of strings, where a lone string is refused (`artifacts:paths`, `cache:paths`). */
function arrayOfStrings(value: unknown, message: string, position?: SourcePosition): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(message, position);
  const list = value.flat(10);
  if (!list.every((v) => typeof v === "string" || typeof v === "number")) throw new ConfigError(message, position);
  return list.map(String);
}

/** `cache:key:files`: one or two files (GitLab's Cache::Key::Files length validation). */
function keyFiles(value: unknown, location: string, position?: SourcePosition): string[] {
  const files = arrayOfStrings(value, `${location} config should be an array of strings`, position);
  if (files.length < 1) throw new ConfigError(`${location} config requires at least 1 item`, position);
  if (files.length > 2) throw new ConfigError(`${location} config has too many items (maximum is 2)`, position);
  return files;
}

function strings(value: unknown, location: string, position?: SourcePosition): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value.flat(10) : [value];
  if (!list.every((v) => typeof v === "string" || typeof v === "number")) {
    throw new ConfigError(`${location} config should be an array of strings`, position);
  }
  return list.map(String);
}
