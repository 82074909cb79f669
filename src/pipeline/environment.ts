import { ConfigError, type SourcePosition } from "./config-error.ts";
import { isHash } from "./extends.ts";

const ACTIONS = ["start", "prepare", "stop", "verify", "access"] as const;
const TIERS = ["production", "staging", "testing", "development", "other"] as const;
const KEYS = ["name", "url", "action", "on_stop", "auto_stop_in", "kubernetes", "deployment_tier"];

/** A job's `environment:` as written (its name and url still hold variables). */
export interface EnvironmentDefinition {
  readonly name: string;
  readonly url?: string;
  readonly action: (typeof ACTIONS)[number];
  readonly tier?: (typeof TIERS)[number];
  readonly onStop?: string;
}

export function readEnvironment(value: unknown, location: string, position?: SourcePosition): EnvironmentDefinition | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return { name: value, action: "start" };
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash or a string`, position);
  const unknown = Object.keys(value).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  if (typeof value.name !== "string" || value.name.trim() === "") throw new ConfigError(`${location} name can't be blank`, position);
  const action = value.action ?? "start";
  if (!ACTIONS.includes(action as never)) throw new ConfigError(`${location} action should be ${ACTIONS.join(", ")}`, position);
  const tier = value.deployment_tier;
  if (tier !== undefined && tier !== null && !TIERS.includes(tier as never)) {
    throw new ConfigError(`${location} deployment tier must be one of: ${TIERS.join(", ")}`, position);
  }
  return {
    name: value.name, action: action as EnvironmentDefinition["action"],
    ...(typeof value.url === "string" ? { url: value.url } : {}),
    ...(typeof tier === "string" ? { tier: tier as EnvironmentDefinition["tier"] } : {}),
    ...(typeof value.on_stop === "string" ? { onStop: value.on_stop } : {}),
  };
}

/**
 * The `CI_ENVIRONMENT_*` variables of a job with an environment (docs/pipeline.md §5.4, §8.8): the
 * name and url expanded with the job's other variables, GitLab's slug and its guess of the tier.
 */
export function environmentVariables(environment: EnvironmentDefinition, expand: (text: string) => string): Record<string, string> {
  const name = expand(environment.name);
  return {
    CI_ENVIRONMENT_NAME: name,
    CI_ENVIRONMENT_SLUG: environmentSlug(name),
    ...(environment.url !== undefined ? { CI_ENVIRONMENT_URL: expand(environment.url) } : {}),
    CI_ENVIRONMENT_ACTION: environment.action,
    CI_ENVIRONMENT_TIER: environment.tier ?? guessTier(name),
  };
}

/**
 * GitLab's environment slug (C lib/gitlab/slug/environment.rb): lowercase, `[^a-z0-9]` → `-`, `env-`
 * before a name that does not start with a letter, runs of `-` squeezed; when that is longer than 24
 * characters or differs from the name, the first 17 characters, a `-`, and 6 base-36 digits of the
 * name's SHA-256; otherwise without a trailing `-`.
 */
export function environmentSlug(name: string): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]/g, "-");
  if (!/^[a-z]/.test(slug)) slug = `env-${slug}`;
  slug = slug.replace(/-{2,}/g, "-");
  if (slug.length > 24 || slug !== name) {
    const digest = BigInt(`0x${new Bun.CryptoHasher("sha256").update(name).digest("hex")}`);
    const suffix = digest.toString(36).slice(-6);
    let head = slug.slice(0, 17);
    if (!head.endsWith("-")) head += "-";
    return `${head}${suffix}`;
  }
  return slug.replace(/-$/, "");
}

/** GitLab's Environment#guess_tier, from the name. */
function guessTier(name: string): (typeof TIERS)[number] {
  if (/(dev|review|trunk)/i.test(name)) return "development";
  if (/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i.test(name)) return "testing";
  if (/(st(a|)g|mod(e|)l|pre|demo|non)/i.test(name)) return "staging";
  if (/(pr(o|)d|live)/i.test(name)) return "production";
  return "other";
}
