import { ConfigError, type SourcePosition } from "./config-error.ts";
import type { Hook } from "../protocol/types.ts";
import type { JobDefinition, Need, VariableDefinition } from "./job-definition.ts";
import { parseDuration } from "./duration.ts";
import { matrixInstanceNames } from "./parallel.ts";
import { isHash } from "./extends.ts";
import { RubyFloat, rubyString } from "./ruby-scalars.ts";
import { re2ToRegExp } from "./re2.ts";

/* The readers of a job's plain fields, each failing with GitLab's message for its location. */

export function readNeeds(value: unknown, location: string, position?: SourcePosition): Need[] {
  const list = Array.isArray(value) ? value.flat(10) : undefined;
  if (!list) throw new ConfigError(`${location} config should be an array`, position);
  // needs:project and needs:pipeline name jobs of other pipelines: not part of this run's DAG (warned about).
  return list.filter((entry) => !(isHash(entry) && ("project" in entry || "pipeline" in entry))).map((entry) => {
    if (typeof entry === "string") return { job: entry, optional: false, artifacts: true };
    if (isHash(entry) && typeof entry.job === "string") {
      const instances = isHash(entry.parallel) ? matrixInstanceNames(entry.job, entry.parallel, `${location}:parallel`, position) : undefined;
      return { job: entry.job, optional: entry.optional === true, artifacts: entry.artifacts !== false, ...(instances ? { instances } : {}) };
    }
    throw new ConfigError(`${location} config should be a string or a hash with a job`, position);
  });
}

export function readDependencies(value: unknown, location: string, position?: SourcePosition): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((d) => typeof d === "string")) {
    throw new ConfigError(`${location} config should be an array of strings`, position);
  }
  return value;
}

export function readScript(value: unknown, location: string, position?: SourcePosition): string[] {
  if (value === undefined || value === null) return [];
  // Up to 10 levels: `[a]` is one, so nine more are flattened and an eleventh stays a list.
  const flat = typeof value === "string" ? [value] : Array.isArray(value) ? value.flat(9) : undefined;
  if (!flat || !flat.every((line) => typeof line === "string")) {
    throw new ConfigError(`${location} config should be a string or a nested array of strings up to 10 levels deep`, position);
  }
  // A shell reads a NUL as the end of the line, while the trace would show all of it.
  if ((flat as string[]).some((line) => line.includes("\0"))) {
    throw new ConfigError(`${location} config contains a NUL character, which no shell can run`, position);
  }
  return flat as string[];
}

export function readVariables(
  value: unknown,
  location: string,
  position: SourcePosition | undefined,
  options: { global: boolean },
): VariableDefinition[] {
  if (value === undefined || value === null) return [];
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash of key value pairs`, position);
  const allowed = options.global ? ["value", "description", "options", "expand"] : ["value", "expand"];
  return Object.entries(value).map(([key, definition]) => {
    if (isHash(definition)) {
      const invalid = Object.keys(definition).filter((k) => !allowed.includes(k));
      if (invalid.length > 0) throw new ConfigError(`${location}:${key.toLowerCase()} config uses invalid data keys: ${invalid.join(", ")}`, position);
      const raw = definition.expand === false;
      const text = definition.value === undefined || definition.value === null ? "" : rubyString(definition.value);
      if (Array.isArray(definition.options) && !definition.options.map(rubyString).includes(text)) {
        throw new ConfigError(`${location}:${key.toLowerCase()} config value must be present in options`, position);
      }
      return { key, value: text, raw };
    }
    // `KEY:` with no value (YAML null) is the empty string, as GitLab makes it.
    if (definition === null) return { key, value: "", raw: false };
    if (typeof definition === "object" && !(definition instanceof RubyFloat)) {
      // GitLab's UnknownStrategy entry reports this without a location.
      throw new ConfigError("variable definition must be either a string or a hash", position);
    }
    return { key, value: rubyString(definition), raw: false };
  });
}

export function readAllowFailure(value: unknown, manual: boolean, location: string, position?: SourcePosition): boolean {
  if (value === undefined || value === null) return manual;
  if (typeof value === "boolean") return value;
  if (isHash(value) && "exit_codes" in value) return false;
  throw new ConfigError(`${location} config should be a hash or a boolean value`, position);
}

export function readTimeout(value: unknown, location: string, position?: SourcePosition): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = parseDuration(rubyString(value));
  if (seconds === undefined) throw new ConfigError(`${location} config should be a duration`, position);
  // ChronicDuration's month is 30 days; a job's timeout may be at most one.
  if (seconds > 30 * 24 * 3600) throw new ConfigError(`${location} config should not exceed the limit`, position);
  return seconds;
}

export function readResourceGroup(value: unknown, location: string, position?: SourcePosition): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ConfigError(`${location}:resource_group config should be a string`, position);
  return value === "" ? undefined : value;
}

/** `coverage: '/regex/'`: a regular expression between slashes. */
export function readCoverage(value: unknown, location: string, position?: SourcePosition): string | undefined {
  if (value === undefined || value === null) return undefined;
  const parts = typeof value === "string" ? /^\/(.+)\/([a-zA-Z]*)$/s.exec(value) : null;
  if (!parts) throw new ConfigError(`${location} config must be a regular expression`, position);
  // GitLab reads it with RE2: what RE2 cannot (or this runner cannot mean the same) is said now, not a silent miss.
  try {
    re2ToRegExp(parts[1]!, parts[2]!.replace(/[^ims]/g, ""));
  } catch (error) {
    throw new ConfigError(`${location} config must be a regular expression: ${error instanceof Error ? error.message : String(error)}`, position);
  }
  return value as string;
}

/** `hooks:`: scripts the runner runs around get_sources. */
export function readHooks(value: unknown, location: string, position?: SourcePosition): Hook[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash`, position);
  const names = ["pre_get_sources_script", "post_get_sources_script"] as const;
  const unknown = Object.keys(value).filter((k) => !names.includes(k as never));
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  return names.filter((name) => value[name] !== undefined && value[name] !== null)
    .map((name) => ({ name, script: readScript(value[name], `${location}:${name}`, position) }));
}

/**
 * `secrets:`: each secret's name and whether the job gets it as a file (GitLab's default) — a local
 * run takes the values from the project's secrets files, as no secrets provider is reachable.
 */
export function readSecrets(value: unknown, location: string, position?: SourcePosition): { name: string; file: boolean }[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash`, position);
  return Object.entries(value).map(([name, entry]) => {
    if (!isHash(entry)) throw new ConfigError(`${location}:${name.toLowerCase()} config should be a hash`, position);
    return { name, file: entry.file !== false };
  });
}
