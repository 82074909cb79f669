import type { PlanContext } from "../pipeline/plan.ts";
import { ruleVariables, type RuleVariableSources } from "../pipeline/rule-variables.ts";
import type { RuleContext } from "../pipeline/rules.ts";

/**
 * What `rules:` see in a local run: the pipeline's predefined variables, the file's global and the
 * workflow rule's variables, the job's own (unexpanded, as GitLab's rule context) and `--variable`;
 * `changes:` against what a push would carry — the working tree's changes and the commits the
 * upstream branch lacks (or `compare_to`'s diff) — `exists:` against tracked files. Each git call
 * is made once per run.
 */
export function ruleContext(input: RuleVariableSources & { cwd: string; env: Record<string, string> }): PlanContext {
  const git = (...args: string[]) => {
    const result = Bun.spawnSync(["git", ...args], { cwd: input.cwd, env: input.env });
    return result.exitCode === 0 ? result.stdout.toString() : undefined;
  };
  let tracked: string[] | undefined;
  let working: string[] | undefined;
  const diffs = new Map<string, string[]>();
  const diff = (base: string) => {
    if (!diffs.has(base)) diffs.set(base, (git("diff", "--name-only", "-z", `${base}...HEAD`) ?? "").split("\0").filter(Boolean));
    return diffs.get(base)!;
  };
  let upstream: string | null | undefined;
  return {
    ruleVariables: (job, workflow) => ruleVariables(input, job, workflow),
    changedFiles(compareTo) {
      working ??= workingTreeChanges(git("status", "--porcelain", "-z", "--untracked-files=all") ?? "");
      // What a push would carry: the commits not on the upstream branch yet, and the working tree.
      upstream ??= git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")?.trim() || null;
      const base = compareTo ?? upstream ?? undefined;
      const changed = [...new Set([...working, ...(base ? diff(base) : [])])];
      // GitLab: a pipeline without a diff lets `changes` hold.
      return changed.length === 0 && !compareTo ? undefined : changed;
    },
    trackedFiles() {
      tracked ??= (git("ls-files", "-z") ?? "").split("\0").filter(Boolean);
      return tracked;
    },
  };
}

/** What `include:rules` and include values see: the include-safe variables (predefined, project and pipeline ones, not the file's). */
export function includeContext(input: RuleVariableSources & { cwd: string; env: Record<string, string> }): RuleContext {
  const ctx = ruleContext({ ...input, globals: [] });
  return { ...ctx, variables: ctx.ruleVariables(undefined, []) };
}

/** The paths of `git status --porcelain -z`: a rename's or copy's entry is followed by its old path. */
function workingTreeChanges(status: string): string[] {
  const entries = status.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") paths.push(entries[++i] ?? "");
  }
  return paths.filter(Boolean);
}
