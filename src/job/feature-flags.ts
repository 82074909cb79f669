import type { JobVariable } from "../protocol/types.ts";
import { FEATURE_FLAGS, type FlagName } from "./feature-flag-table.ts";

export type { FlagName } from "./feature-flag-table.ts";

/** A job's feature flags, resolved as GitLab Runner resolves them (common/build_settings.go). */
export interface FeatureFlags {
  on(name: FlagName): boolean;
  /** GitLab Runner's header line after `  feature flags: `: the flags not at their default. */
  readonly header: string | undefined;
  /** What the trace says about flags the runner cannot take as asked, or cannot read. */
  readonly warnings: readonly string[];
  /** Every flag as the variable the job's scripts see (`FF_TIMESTAMPS=true`), first in the job's variables. */
  readonly variables: readonly JobVariable[];
}

const KNOWN = new Set<string>(FEATURE_FLAGS.map((f) => f.name));

/**
 * `[runners.feature_flags]` beat the job's variables (the runner's `environment` and the job's
 * own, the last one winning); a variable that is no Go boolean (`strconv.ParseBool`) leaves the
 * default and is warned about in GitLab Runner's words. A flag the runner does not take as asked, and
 * an `FF_` name GitLab Runner does not know, are named in the trace: nothing is taken silently.
 */
export function resolveFeatureFlags(
  configured: Readonly<Record<string, boolean>>,
  variables: readonly { readonly key: string; readonly value: string }[],
): FeatureFlags {
  const values = new Map<FlagName, boolean>();
  const warnings: string[] = [];
  const fromVariables = new Map<string, string>();
  for (const { key, value } of variables) if (key.startsWith("FF_")) fromVariables.set(key, value);
  for (const flag of FEATURE_FLAGS) {
    let value: boolean = flag.defaultValue;
    let explicit = false;
    if (configured[flag.name] !== undefined) {
      value = configured[flag.name]!;
      explicit = true;
    } else if (fromVariables.has(flag.name)) {
      const raw = fromVariables.get(flag.name)!;
      const parsed = parseGoBool(raw);
      if (parsed === undefined) warnings.push(`${flag.name}: could not parse feature flag, expected bool, got ${raw}`);
      else {
        value = parsed;
        explicit = true;
      }
    }
    values.set(flag.name, value);
    if (explicit) {
      const warning = unsupported(flag.name, value, flag.defaultValue, flag.support);
      if (warning) warnings.push(warning);
    }
  }
  const unknown = new Set([...Object.keys(configured), ...fromVariables.keys()].filter((k) => k.startsWith("FF_") && !KNOWN.has(k)));
  for (const name of unknown) warnings.push(`${name} is not a GitLab Runner feature flag; it has no effect`);
  const changed = FEATURE_FLAGS.filter((f) => values.get(f.name) !== f.defaultValue).map((f) => `${f.name}:${values.get(f.name)}`);
  return {
    on: (name) => values.get(name) === true,
    header: changed.length > 0 ? changed.join(", ") : undefined,
    warnings,
    variables: FEATURE_FLAGS.map((f) => ({ key: f.name, value: String(values.get(f.name)), public: true, masked: false })),
  };
}

/** The flags as GitLab Runner's defaults have them: for code that runs with no job. */
export function defaultFeatureFlags(): FeatureFlags {
  return resolveFeatureFlags({}, []);
}

/** The job's variables without the feature flags GitLab Runner knows (their resolved values come first instead). */
export function withoutFlagVariables<V extends { readonly key: string }>(variables: readonly V[]): V[] {
  return variables.filter((v) => !KNOWN.has(v.key));
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(raw: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(raw)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(raw)) return false;
  return undefined;
}

function unsupported(name: string, value: boolean, defaultValue: boolean, support: (typeof FEATURE_FLAGS)[number]["support"]): string | undefined {
  switch (support.kind) {
    case "honoured":
      return undefined;
    case "fixed":
      return value === support.behaves
        ? undefined
        : `${name}=${value} is not supported by this runner, which behaves as ${name}=${support.behaves}: ${support.reason}`;
    case "inapplicable":
      return value === defaultValue ? undefined : `${name}=${value} has no effect in this runner: ${support.reason}`;
  }
}
