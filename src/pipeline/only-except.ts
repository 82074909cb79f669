import { ConfigError, type SourcePosition } from "./config-error.ts";
import { isHash } from "./extends.ts";
import { expression, globMatch, type RuleContext } from "./rules.ts";

/** Legacy `only:` / `except:` (refs, variables, changes). */
export interface OnlyExcept {
  readonly refs?: readonly string[];
  readonly variables?: readonly string[];
  readonly changes?: readonly string[];
}

/** The pipeline sources `only: refs` keywords name (GitLab's list, singular as CI_PIPELINE_SOURCE says them). */
const SOURCE_KEYWORDS: Readonly<Record<string, string>> = {
  api: "api", chat: "chat", external: "external", external_pull_requests: "external_pull_request_event",
  merge_requests: "merge_request_event", pipelines: "pipeline", pushes: "push", schedules: "schedule",
  triggers: "trigger", web: "web",
};

export function readOnlyExcept(value: unknown, location: string, position?: SourcePosition): OnlyExcept | undefined {
  if (value === undefined || value === null) return undefined;
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : undefined);
  if (Array.isArray(value) || typeof value === "string") return { refs: strings(value)! };
  if (!isHash(value)) throw new ConfigError(`${location} config should be an array of strings or a hash`, position);
  const unknown = Object.keys(value).filter((k) => !["refs", "variables", "changes", "kubernetes"].includes(k));
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  const refs = strings(value.refs);
  const variables = strings(value.variables);
  const changes = isHash(value.changes) ? strings(value.changes.paths) : strings(value.changes);
  return { ...(refs ? { refs } : {}), ...(variables ? { variables } : {}), ...(changes ? { changes } : {}) };
}

/**
 * Whether `only`/`except` keep a job (GitLab: the keys are one conjoined expression — `only` keeps
 * the job when every key has a matching condition, `except` drops it when every key has one). No
 * `only` means `only: [branches, tags]`. Returns why the job is left out, or undefined.
 */
export function onlyExceptReason(only: OnlyExcept | undefined, except: OnlyExcept | undefined, ctx: RuleContext): string | undefined {
  const effectiveOnly = only ?? { refs: ["branches", "tags"] };
  if (!matches({ refs: ["branches", "tags"], ...effectiveOnly }, ctx)) return "only: did not match";
  if (except && matches(except, ctx)) return "except: matched";
  return undefined;
}

function matches(spec: OnlyExcept, ctx: RuleContext): boolean {
  const v = ctx.variables;
  if (spec.refs && !spec.refs.some((ref) => refMatches(ref.replace(/@.*$/, ""), v))) return false;
  if (spec.variables && !spec.variables.some((e) => expression(e).evaluate(v))) return false;
  if (spec.changes) {
    const changed = ctx.changedFiles();
    if (changed !== undefined && !spec.changes.some((p) => changed.some((file) => globMatch(p, file)))) return false;
  }
  return true;
}

function refMatches(ref: string, v: Readonly<Record<string, string>>): boolean {
  const name = v.CI_COMMIT_REF_NAME ?? v.CI_COMMIT_BRANCH ?? v.CI_COMMIT_TAG ?? "";
  // A merge request pipeline runs on refs/merge-requests/…: not a branch.
  if (ref === "branches") return v.CI_COMMIT_BRANCH !== undefined && v.CI_COMMIT_TAG === undefined && v.CI_PIPELINE_SOURCE !== "merge_request_event";
  if (ref === "tags") return v.CI_COMMIT_TAG !== undefined;
  if (ref in SOURCE_KEYWORDS) return v.CI_PIPELINE_SOURCE === SOURCE_KEYWORDS[ref];
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(ref);
  if (regex) {
    try {
      return new RegExp(regex[1]!, regex[2]!.replace(/[^imsu]/g, "")).test(name);
    } catch {
      return false;
    }
  }
  return ref === name;
}
