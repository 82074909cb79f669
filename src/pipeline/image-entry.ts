import { ConfigError, type SourcePosition } from "./config-error.ts";
import { isHash } from "./extends.ts";
import { rubyString } from "./ruby-scalars.ts";
import type { Image, ImageExecutorOptions, PullPolicy } from "../protocol/types.ts";

/**
 * `image:` and `services:` read as GitLab reads them (lib/gitlab/ci/config/entry/image.rb,
 * service.rb, imageable.rb, pull_policy.rb) into the payload's own shape, so that a local run's
 * job carries what a coordinator's would: the pull policy and the executor options
 * (`docker: platform/user`, `kubernetes: user`) reach the executor on both roads.
 */

const IMAGE_KEYS = ["name", "entrypoint", "ports", "pull_policy", "docker", "kubernetes"];
const SERVICE_KEYS = [...IMAGE_KEYS, "command", "alias", "variables"];
const POLICIES: readonly PullPolicy[] = ["always", "never", "if-not-present"];
const EXECUTOR_OPTION_KEYS: Record<keyof ImageExecutorOptions, readonly string[]> = { docker: ["platform", "user"], kubernetes: ["user"] };

export function readImage(value: unknown, location: string, position?: SourcePosition): Image | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return { name: value };
  if (!isHash(value)) throw new ConfigError(`${location} config should be a hash or a string`, position);
  return readImageable(value, IMAGE_KEYS, location, position);
}

export function readServices(value: unknown, location: string, position?: SourcePosition): Image[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ConfigError(`${location} config should be a array`, position);
  return value.map((item) => {
    if (typeof item === "string") return { name: item };
    if (!isHash(item)) throw new ConfigError(`${location}:service config should be a hash or a string`, position);
    const at = `${location}:service`;
    const service = readImageable(item, SERVICE_KEYS, at, position);
    const command = optionalStrings(item.command, `${at} command`, position);
    const alias = item.alias === undefined || item.alias === null ? undefined : item.alias;
    if (alias !== undefined && typeof alias !== "string") throw new ConfigError(`${at} alias should be a string`, position);
    const variables = readServiceVariables(item.variables, at, position);
    return { ...service, ...(alias ? { alias } : {}), ...(command ? { command } : {}), ...(variables ? { variables } : {}) };
  });
}

function readImageable(value: Record<string, unknown>, allowed: readonly string[], location: string, position?: SourcePosition): Image {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new ConfigError(`${location} config contains unknown keys: ${unknown.join(", ")}`, position);
  // `ports` is GitLab's, but only for the Web IDE's terminals (with_image_ports): a pipeline may not use it.
  if ("ports" in value) throw new ConfigError(`${location} config contains disallowed keys: ports`, position);
  if (typeof value.name !== "string" || value.name === "") throw new ConfigError(`${location} name can't be blank`, position);
  const entrypoint = optionalStrings(value.entrypoint, `${location} entrypoint`, position);
  const pullPolicy = readPullPolicy(value.pull_policy, `${location}:pull_policy`, position);
  const options = readExecutorOptions(value, location, position);
  return {
    name: value.name, ...(entrypoint ? { entrypoint } : {}),
    ...(pullPolicy ? { pull_policy: pullPolicy } : {}), ...(options ? { executor_opts: options } : {}),
  };
}

function readPullPolicy(value: unknown, location: string, position?: SourcePosition): PullPolicy[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === "string" ? [value] : Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  if (!list) throw new ConfigError(`${location} config should be a string or an array of strings`, position);
  if (list.length === 0) throw new ConfigError(`${location} config can't be blank`, position);
  const unknown = list.filter((policy) => !POLICIES.includes(policy as PullPolicy));
  if (unknown.length > 0) {
    throw new ConfigError(typeof value === "string" ? `${location} config is not included in the list` : `${location} config contains unknown values: ${unknown.join(", ")}`, position);
  }
  return list as PullPolicy[];
}

function readExecutorOptions(value: Record<string, unknown>, location: string, position?: SourcePosition): ImageExecutorOptions | undefined {
  const options: Record<string, Record<string, string | number>> = {};
  for (const executor of Object.keys(EXECUTOR_OPTION_KEYS) as (keyof ImageExecutorOptions)[]) {
    const given = value[executor];
    if (given === undefined || given === null) continue;
    if (!isHash(given)) throw new ConfigError(`${location}:${executor} config should be a hash`, position);
    const unknown = Object.keys(given).filter((key) => !EXECUTOR_OPTION_KEYS[executor].includes(key));
    if (unknown.length > 0) throw new ConfigError(`${location}:${executor} config contains unknown keys: ${unknown.join(", ")}`, position);
    const read: Record<string, string | number> = {};
    for (const [key, v] of Object.entries(given)) {
      if (v === undefined || v === null) continue;
      // A user may be a name or a uid; a platform is a string ("linux/arm64").
      if (typeof v === "string" || (key === "user" && typeof v === "number" && Number.isInteger(v))) read[key] = v;
      else throw new ConfigError(`${location}:${executor} ${key} should be a string`, position);
    }
    if (Object.keys(read).length > 0) options[executor] = read;
  }
  return Object.keys(options).length > 0 ? options : undefined;
}

function optionalStrings(value: unknown, location: string, position?: SourcePosition): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new ConfigError(`${location} should be an array of strings`, position);
}

function readServiceVariables(value: unknown, location: string, position?: SourcePosition): { key: string; value: string }[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) throw new ConfigError(`${location} variables config should be a hash of key value pairs`, position);
  return Object.entries(value).map(([key, v]) => ({ key, value: rubyString(isHash(v) ? v.value : v) }));
}
