import { isHash } from "./extends.ts";
import { GLOBAL_KEYWORDS } from "./keywords.ts";

/** Job keywords that are valid GitLab but do nothing, or only part of it, in a local run: what a warning says after the keyword. */
const NO_EFFECT: Readonly<Record<string, string>> = {
  environment: "records no deployment in a local run (CI_ENVIRONMENT_* are set)",
  release: "has no effect in a local run (no release is created)",
  pages: "has no effect in a local run (nothing is published)",
  publish: "has no effect in a local run (nothing is published)",
  trigger: "has no effect in a local run (downstream pipelines do not run locally; the job is left out)",
  id_tokens: "has no effect in a local run (no OIDC provider; give the variables with --variable or --secrets-file)",
  secrets: "are read from .runner/secrets.env or --secrets-file in a local run (no secrets provider)",
  identity: "has no effect in a local run (no cloud identity)",
  tags: "has no effect in a local run (tags choose a runner; every job runs here)",
  interruptible: "has no effect in a local run (no newer pipeline cancels this one)",
  dast_configuration: "has no effect in a local run (no DAST profiles)",
  manual_confirmation: "has no effect in a local run (no confirmation is asked)",
  "needs:project": "has no effect in a local run (another project's jobs and artifacts are out of reach; the job does not wait)",
  "needs:pipeline": "has no effect in a local run (another pipeline's jobs and artifacts are out of reach; the job does not wait)",
};

/**
 * One warning per keyword that does nothing locally, naming the jobs that use it (after
 * `default:`/`extends`, so a default's `tags` are named once, with every job), and the workflow's
 * `auto_cancel`.
 */
export function noEffectWarnings(config: Record<string, unknown>): string[] {
  const users = new Map<string, string[]>();
  const defaults = isHash(config.default) ? config.default : {};
  for (const [name, job] of Object.entries(config)) {
    if (GLOBAL_KEYWORDS.has(name) || name.startsWith(".") || !isHash(job)) continue;
    const rule = isHash(job.inherit) ? job.inherit.default : undefined;
    const inherited = (keyword: string) =>
      keyword in defaults && (rule === undefined || rule === null || rule === true || (Array.isArray(rule) && rule.includes(keyword)));
    for (const keyword of Object.keys(NO_EFFECT)) {
      if (keyword in job || inherited(keyword)) users.set(keyword, [...(users.get(keyword) ?? []), name]);
    }
  }
  for (const [name, job] of Object.entries(config)) {
    if (GLOBAL_KEYWORDS.has(name) || name.startsWith(".") || !isHash(job) || !Array.isArray(job.needs)) continue;
    for (const kind of ["project", "pipeline"] as const) {
      const key = `needs:${kind}`;
      if (job.needs.flat(10).some((n) => isHash(n) && kind in n) && !(users.get(key) ?? []).includes(name)) {
        users.set(key, [...(users.get(key) ?? []), name]);
      }
    }
  }
  const order = Object.keys(NO_EFFECT);
  const warnings = [...users].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([keyword, jobs]) => `${keyword} ${NO_EFFECT[keyword]}: ${jobList(jobs)}`);
  const autoCancel = isHash(config.workflow) ? config.workflow.auto_cancel : undefined;
  if (isHash(autoCancel) && "on_new_commit" in autoCancel) {
    warnings.push("workflow:auto_cancel:on_new_commit has no effect in a local run (no newer pipeline cancels this one)");
  }
  return warnings;
}

/** A short list: the jobs themselves when few, else their count and the first three. */
function jobList(jobs: readonly string[]): string {
  if (jobs.length <= 3) return jobs.join(", ");
  return `${jobs.length} jobs (${jobs.slice(0, 3).join(", ")}, …)`;
}
