import { isHash } from "./extends.ts";
import { GLOBAL_KEYWORDS } from "./keywords.ts";

/** Job keywords that are valid GitLab but change nothing in a local run, with why. */
const NO_EFFECT: Readonly<Record<string, string>> = {
  environment: "no deployment is recorded",
  release: "no release is created",
  pages: "nothing is published",
  publish: "nothing is published",
  trigger: "downstream pipelines do not run locally; the job is left out",
  id_tokens: "no OIDC provider; give the variables with --variable or --secrets-file",
  secrets: "no secrets provider; give the values with --secrets-file",
  identity: "no cloud identity",
  tags: "tags choose a runner; every job runs here",
  interruptible: "no newer pipeline cancels this one",
  coverage: "coverage is not computed",
  hooks: "runner hooks are not run",
  dast_configuration: "no DAST profiles",
  manual_confirmation: "no confirmation is asked",
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
  const order = Object.keys(NO_EFFECT);
  const warnings = [...users].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([keyword, jobs]) => `${keyword} has no effect in a local run (${NO_EFFECT[keyword]}): ${jobs.join(", ")}`);
  const autoCancel = isHash(config.workflow) ? config.workflow.auto_cancel : undefined;
  if (isHash(autoCancel) && "on_new_commit" in autoCancel) {
    warnings.push("workflow:auto_cancel:on_new_commit has no effect in a local run (no newer pipeline cancels this one)");
  }
  return warnings;
}
