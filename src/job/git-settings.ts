import type { JobResponse } from "../protocol/types.ts";
import { variableValue } from "./variables.ts";

export type GitStrategy = "clone" | "fetch" | "none" | "empty";
export type SubmoduleStrategy = "none" | "normal" | "recursive";

/** How get_sources fetches the repository, read from the job's `GIT_*` variables (docs/protocol.md §11.3). */
export interface GitSettings {
  readonly strategy: GitStrategy;
  readonly depth: number;
  readonly checkout: boolean;
  /** Flags for `git clean`, or undefined to skip it (`GIT_CLEAN_FLAGS=none`). */
  readonly cleanFlags: readonly string[] | undefined;
  readonly fetchExtraFlags: readonly string[];
  readonly submoduleStrategy: SubmoduleStrategy;
  readonly submoduleDepth: number;
  readonly submoduleUpdateFlags: readonly string[];
  readonly submodulePaths: readonly string[];
}

/** The settings and the warnings GitLab Runner prints for values it does not accept. */
export function readGitSettings(
  job: JobResponse,
  variables: readonly { key: string; value: string }[],
): { settings: GitSettings; warnings: string[]; error?: string } {
  const warnings: string[] = [];
  const get = (key: string) => variableValue(variables, key);
  const fallbackStrategy: GitStrategy = job.allow_git_fetch ? "fetch" : "clone";
  let strategy: GitStrategy = fallbackStrategy;
  const rawStrategy = get("GIT_STRATEGY");
  if (rawStrategy !== undefined && rawStrategy !== "") {
    if (["clone", "fetch", "none", "empty"].includes(rawStrategy)) strategy = rawStrategy as GitStrategy;
    else
      warnings.push(
        `GIT_STRATEGY: expected either 'clone', 'fetch', 'none' or 'empty' got '${rawStrategy}', using '${fallbackStrategy}'`,
      );
  }
  const rawCheckout = get("GIT_CHECKOUT");
  const checkout =
    rawCheckout === undefined || rawCheckout === "" ? strategy !== "none" && strategy !== "empty" : parseBool(rawCheckout);
  const rawClean = get("GIT_CLEAN_FLAGS");
  const cleanFlags = rawClean === "none" ? undefined : words(rawClean ?? "-ffdx", ["-ffdx"]);
  const rawFetch = get("GIT_FETCH_EXTRA_FLAGS");
  const fetchExtraFlags = rawFetch === "none" ? [] : words(rawFetch ?? "--prune --quiet", ["--prune", "--quiet"]);
  const rawSubmodule = get("GIT_SUBMODULE_STRATEGY") ?? "";
  let submoduleStrategy: SubmoduleStrategy = "none";
  let error: string | undefined;
  if (rawSubmodule === "normal" || rawSubmodule === "recursive") submoduleStrategy = rawSubmodule;
  else if (rawSubmodule !== "" && rawSubmodule !== "none") error = `unknown GIT_SUBMODULE_STRATEGY: ${rawSubmodule}`;
  const depth = Math.max(0, job.git_info.depth || 0);
  const rawSubmoduleDepth = Number.parseInt(get("GIT_SUBMODULE_DEPTH") ?? "", 10);
  const settings: GitSettings = {
    strategy,
    depth,
    checkout,
    cleanFlags,
    fetchExtraFlags,
    submoduleStrategy,
    submoduleDepth: Number.isNaN(rawSubmoduleDepth) ? depth : Math.max(0, rawSubmoduleDepth),
    submoduleUpdateFlags: words(get("GIT_SUBMODULE_UPDATE_FLAGS") ?? "", []),
    submodulePaths: words(get("GIT_SUBMODULE_PATHS") ?? "", []),
  };
  return error === undefined ? { settings, warnings } : { settings, warnings, error };
}

function words(value: string, fallback: readonly string[]): string[] {
  const parts = value.split(/\s+/).filter((w) => w.length > 0);
  return parts.length > 0 || value.trim() !== "" ? parts : [...fallback];
}

/** Go's `strconv.ParseBool`, with anything unparsable read as false. */
export function parseBool(value: string): boolean {
  return ["1", "t", "T", "true", "TRUE", "True"].includes(value);
}
