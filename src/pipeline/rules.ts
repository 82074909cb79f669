import { ConfigError, type SourcePosition } from "./config-error.ts";
import { isHash } from "./extends.ts";
import { ExpressionError, parseExpression, type Expression } from "./expression.ts";
import { expandKnown } from "./expand-known.ts";
import { readStartIn } from "./job-options.ts";
import { rubyString } from "./ruby-scalars.ts";

/** One entry of `rules:` (or `workflow:rules:`), checked; plain data, so that a plan can be cached. */
export interface Rule {
  /** The `if:` expression, already known to parse. */
  readonly if?: string;
  readonly changes?: { readonly paths: readonly string[]; readonly compareTo?: string };
  readonly exists?: readonly string[];
  readonly when?: string;
  readonly allowFailure?: boolean;
  readonly variables?: Readonly<Record<string, string>>;
  readonly needs?: readonly string[];
  /** `start_in` of a rule with `when: delayed`, in seconds. */
  readonly startInSeconds?: number;
}

const JOB_RULE_KEYS = ["if", "changes", "exists", "when", "start_in", "allow_failure", "variables", "needs", "interruptible"];
const JOB_RULE_WHEN = ["on_success", "on_failure", "always", "never", "manual", "delayed"];
const WORKFLOW_RULE_KEYS = ["if", "changes", "exists", "when", "variables", "auto_cancel", "start_in", "allow_failure", "needs"];
const WORKFLOW_RULE_WHEN = ["always", "never"];
const INCLUDE_RULE_KEYS = ["if", "changes", "exists", "when"];

/** Reads a `rules:` list; errors in GitLab's words (`jobs:<job>:rules:rule if invalid expression syntax`). */
export function readRules(value: unknown, location: string, position: SourcePosition | undefined, kind: "job" | "workflow" | "include"): Rule[] {
  const list = Array.isArray(value) ? value.flat(10) : undefined;
  if (!list) throw new ConfigError(`${location} config should be an array of hashes`, position);
  // `rules: []` (GitLab: `jobs:<job> rules config can't be blank`); the message names the job.
  if (list.length === 0 && kind === "job") throw new ConfigError(`${location.replace(/:rules$/, " rules")} config can't be blank`, position);
  const keys = kind === "job" ? JOB_RULE_KEYS : kind === "workflow" ? WORKFLOW_RULE_KEYS : INCLUDE_RULE_KEYS;
  const whens = kind === "job" ? JOB_RULE_WHEN : WORKFLOW_RULE_WHEN;
  return list.map((raw) => {
    const where = `${location}:rule`;
    if (!isHash(raw)) throw new ConfigError(`${where} config should be a hash`, position);
    if (Object.keys(raw).length === 0) throw new ConfigError(`${where} config can't be blank`, position);
    const unknown = Object.keys(raw).filter((k) => !keys.includes(k));
    if (unknown.length > 0) throw new ConfigError(`${where} config contains unknown keys: ${unknown.join(", ")}`, position);
    if (raw.when !== undefined && raw.when !== null && !whens.includes(String(raw.when))) {
      throw new ConfigError(`${where} when unknown value: ${String(raw.when)}`, position);
    }
    let condition: string | undefined;
    if (raw.if !== undefined) {
      try {
        if (typeof raw.if !== "string") throw new ExpressionError("not a string");
        parseExpression(raw.if);
        condition = raw.if;
      } catch (error) {
        if (error instanceof ExpressionError) throw new ConfigError(`${where} if invalid expression syntax`, position);
        throw error;
      }
    }
    return {
      ...(condition !== undefined ? { if: condition } : {}),
      ...(raw.changes !== undefined ? { changes: readChanges(raw.changes, `${where}:changes`, position) } : {}),
      ...(raw.exists !== undefined ? { exists: readPaths(isHash(raw.exists) ? raw.exists.paths : raw.exists, `${where}:exists`, position) } : {}),
      ...(raw.when !== undefined && raw.when !== null ? { when: String(raw.when) } : {}),
      ...(typeof raw.allow_failure === "boolean" ? { allowFailure: raw.allow_failure } : {}),
      ...(isHash(raw.variables) ? { variables: Object.fromEntries(Object.entries(raw.variables).map(([k, v]) => [k, rubyString(v)])) } : {}),
      ...(Array.isArray(raw.needs) ? { needs: raw.needs.map((n) => (isHash(n) ? String(n.job) : String(n))) } : {}),
      ...(kind === "job" && (raw.when === "delayed" || raw.start_in !== undefined)
        ? { startInSeconds: readStartIn(raw.start_in, raw.when === "delayed", where, position) }
        : {}),
    };
  });
}

function readChanges(value: unknown, location: string, position?: SourcePosition): NonNullable<Rule["changes"]> {
  if (isHash(value)) {
    return {
      paths: readPaths(value.paths, location, position),
      ...(typeof value.compare_to === "string" ? { compareTo: value.compare_to } : {}),
    };
  }
  return { paths: readPaths(value, location, position) };
}

function readPaths(value: unknown, location: string, position?: SourcePosition): string[] {
  if (!Array.isArray(value) || !value.every((p) => typeof p === "string")) {
    throw new ConfigError(`${location} config should be an array of strings`, position);
  }
  return value;
}

/** What rules are evaluated against. */
export interface RuleContext {
  /** The variables `if:` sees: unexpanded, as GitLab's rule context holds them. */
  readonly variables: Readonly<Record<string, string>>;
  /** Files changed, for `changes:`; undefined when there is no diff (then `changes` holds, as in GitLab). */
  readonly changedFiles: (compareTo?: string) => readonly string[] | undefined;
  /** Tracked files at the pipeline's commit, for `exists:`. */
  readonly trackedFiles: () => readonly string[];
}

/** The first rule whose clauses all hold (docs/pipeline.md §6.1), or undefined when none does. */
export function firstMatchingRule(rules: readonly Rule[], ctx: RuleContext): Rule | undefined {
  return rules.find((rule) => {
    if (rule.if !== undefined && !expression(rule.if).evaluate(ctx.variables)) return false;
    if (rule.changes) {
      const changed = ctx.changedFiles(rule.changes.compareTo && expandKnown(rule.changes.compareTo, (n) => ctx.variables[n]));
      if (changed !== undefined && !anyMatches(rule.changes.paths, changed, ctx.variables)) return false;
    }
    if (rule.exists) {
      if (!anyMatches(rule.exists, ctx.trackedFiles(), ctx.variables)) return false;
    }
    return true;
  });
}

const parsed = new Map<string, Expression>();
export function expression(text: string): Expression {
  let found = parsed.get(text);
  if (!found) parsed.set(text, (found = parseExpression(text)));
  return found;
}

/** Whether a file matches one of the patterns, each expanded and compiled once (not once per file). */
function anyMatches(patterns: readonly string[], files: readonly string[], variables: Readonly<Record<string, string>>): boolean {
  return patterns.some((p) => {
    const matches = globMatcher(expandKnown(p, (n) => variables[n]));
    return files.some(matches);
  });
}

/** Ruby's `File.fnmatch` with FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB, through Bun's glob. */
export function globMatch(pattern: string, path: string): boolean {
  return globMatcher(pattern)(path);
}

/** {@link globMatch} for one pattern, compiled once. */
export function globMatcher(pattern: string): (path: string) => boolean {
  const directory = pattern.endsWith("/") ? pattern.slice(0, -1) : undefined;
  if (directory !== undefined) return (path) => path === directory || path.startsWith(`${directory}/`);
  const glob = new Bun.Glob(pattern);
  return (path) => glob.match(path);
}

/** `$VAR` in a path is replaced when defined, else kept as written (GitLab's expand_existing). */
