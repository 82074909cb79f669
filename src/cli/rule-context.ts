import type { PlanContext } from "../pipeline/plan.ts";
import { ruleVariables, type RuleVariableSources } from "../pipeline/rule-variables.ts";
import type { RuleContext } from "../pipeline/rules.ts";

/**
 * What `rules:` see in a local run: the pipeline's predefined variables, the file's global and the
 * workflow rule's variables, the job's own (unexpanded, as GitLab's rule context) and `--variable`;
 * `changes:` against the working tree's changes (or `compare_to`), `exists:` against tracked files.
 */
export function ruleContext(input: RuleVariableSources & { cwd: string; env: Record<string, string> }): PlanContext {
  const git = (...args: string[]) => {
    const result = Bun.spawnSync(["git", ...args], { cwd: input.cwd, env: input.env });
    return result.exitCode === 0 ? result.stdout.toString() : undefined;
  };
  let tracked: string[] | undefined;
  return {
    ruleVariables: (job, workflow) => ruleVariables(input, job, workflow),
    changedFiles(compareTo) {
      const working = (git("status", "--porcelain", "-z", "--untracked-files=all") ?? "")
        .split("\0").filter(Boolean).map((line) => line.slice(3));
      const compared = compareTo ? (git("diff", "--name-only", "-z", `${compareTo}...HEAD`) ?? "").split("\0").filter(Boolean) : [];
      const changed = [...new Set([...working, ...compared])];
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
