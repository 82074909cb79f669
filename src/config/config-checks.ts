import { parseGoDuration } from "../protocol/go-duration.ts";
import type { Config, RunnerConfig } from "./config-schema.ts";

/** What config.toml says beyond its types: values that are wrong, and what applies where it is lenient. */
export interface ConfigReview {
  /** Values that would make jobs fail or run otherwise than configured: the runner does not start. */
  readonly errors: readonly string[];
  /** What GitLab Runner's leniency makes of a value (`check_interval = 0` means the default), for the log. */
  readonly notes: readonly string[];
}

/** The shells a job script can be written for. */
export const SHELLS = ["bash", "sh"] as const;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOCKER_SIZE = /^\d+(\.\d+)?\s*[bkmgt]?b?$/i;

/**
 * Checks a loaded config.toml the way a job would find out too late: an executor (of `executors`,
 * the ones this runner drives) or a shell this runner has not, an environment entry without `=`, a size or port that is no number, a URL that
 * is none, an unset `$VAR` in a token. Each error names the key's path. GitLab Runner's leniency
 * stays where real files rely on it: `check_interval` ≤ 0 and `limit = 0` are notes, not errors.
 */
export function reviewConfig(config: Config, unset: ReadonlyMap<string, readonly string[]> = new Map(), executors?: readonly string[]): ConfigReview {
  const errors: string[] = [];
  const notes: string[] = [];
  if (config.check_interval <= 0) notes.push(`check_interval = ${config.check_interval}: the default applies, 3s`);
  if (config.listen_address !== undefined && !isListenAddress(config.listen_address)) {
    errors.push(`listen_address: "${config.listen_address}" is not host:port (e.g. "localhost:9252")`);
  }
  config.runners.forEach((runner, i) => reviewRunner(runner, `runners[${i}]`, errors, notes, unset.get(`runners[${i}]`) ?? [], executors));
  return { errors, notes };
}

function reviewRunner(runner: RunnerConfig, at: string, errors: string[], notes: string[], unset: readonly string[], executors: readonly string[] | undefined): void {
  for (const name of unset) errors.push(`${at}.token: $${name} is not set in the runner's environment`);
  if (!isHttpUrl(runner.url)) errors.push(`${at}.url: "${runner.url}" is not an http(s) URL of a GitLab instance`);
  if (runner.token.trim() === "" && unset.length === 0) errors.push(`${at}.token: empty`);
  if (executors && !executors.includes(runner.executor)) {
    errors.push(`${at}.executor: "${runner.executor}" is not available in this runner (${executors.join(", ")} are)`);
  }
  if (runner.shell !== undefined && !(SHELLS as readonly string[]).includes(runner.shell)) {
    errors.push(`${at}.shell: "${runner.shell}" is not a shell this runner writes scripts for (${SHELLS.join(", ")})`);
  }
  runner.environment.forEach((entry, j) => {
    const eq = entry.indexOf("=");
    if (eq < 0) errors.push(`${at}.environment[${j}]: "${entry}" is not KEY=VALUE`);
    else if (!VARIABLE_NAME.test(entry.slice(0, eq))) errors.push(`${at}.environment[${j}]: "${entry.slice(0, eq)}" is not a variable name`);
  });
  if (runner.limit === 0) notes.push(`${at}.limit = 0: no limit on this runner's jobs`);
  if (runner.output_limit <= 0) notes.push(`${at}.output_limit = ${runner.output_limit}: the default applies, 4096 KiB`);
  if (runner.request_concurrency <= 0) notes.push(`${at}.request_concurrency = ${runner.request_concurrency}: 1 applies`);
  if (typeof runner.unhealthy_interval === "string" && parseGoDuration(runner.unhealthy_interval) === undefined) {
    errors.push(`${at}.unhealthy_interval: "${runner.unhealthy_interval}" is not a duration like 30m or 1h`);
  }
  const docker = runner.docker;
  if (docker) {
    for (const key of ["memory", "memory_swap", "memory_reservation", "service_memory", "service_memory_swap", "service_memory_reservation"] as const) {
      const value = docker[key];
      if (value !== undefined && !DOCKER_SIZE.test(value.trim())) errors.push(`${at}.docker.${key}: "${value}" is not a size like 512m or 2g`);
    }
    for (const key of ["cpus", "service_cpus"] as const) {
      const value = docker[key];
      if (value !== undefined && !(Number(value) > 0)) errors.push(`${at}.docker.${key}: "${value}" is not a number of CPUs like 1.5`);
    }
  }
  const port = runner.ssh?.port;
  if (port !== undefined && !isPort(port)) errors.push(`${at}.ssh.port: "${port}" is not a port number (1-65535)`);
}

/** A TCP port, as a number or a string of digits. */
export function isPort(value: string | number): boolean {
  const n = typeof value === "number" ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

function isListenAddress(value: string): boolean {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d+)$/.exec(value.trim());
  return match !== null && isPort(match[2]!);
}
