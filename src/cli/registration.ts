import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { loadConfig, saveConfig } from "../config/config-file.ts";
import { configSchema, runnerSchema, type Config, type RunnerConfig } from "../config/config-schema.ts";
import { loadSystemId } from "../config/system-id.ts";
import { HttpClient } from "../protocol/http-client.ts";
import { runnerInfo } from "../protocol/runner-info.ts";
import { runnerInfoFor } from "../runners/executor-registry.ts";
import { isRunnerAuthenticationToken, registerRunner, unregisterRunner, verifyRunner } from "../protocol/runners-api.ts";
import { shortToken } from "../protocol/token.ts";
import { defaultConfigFile } from "./daemon.ts";
import { EXIT, UsageError } from "./exit-codes.ts";

interface CommandIO {
  readonly env: Record<string, string>;
  readonly configFile?: string;
  /** Messages for the person at the terminal (GitLab Runner prints them on stderr). */
  readonly say: (line: string) => void;
}

export interface RegisterOptions extends CommandIO {
  readonly url?: string;
  readonly token?: string;
  readonly registrationToken?: string;
  readonly executor?: string;
  readonly name?: string;
  readonly shell?: string;
  readonly buildsDir?: string;
  readonly cacheDir?: string;
  readonly tagList?: string;
  readonly runUntagged?: boolean;
  readonly locked?: boolean;
  readonly paused?: boolean;
  readonly limit?: number;
}

/**
 * `runner register`: a `glrt-` runner authentication token is checked with `POST /runners/verify`;
 * a legacy registration token registers with `POST /runners`. The runner is appended to config.toml
 * (created 0600 when missing).
 */
export async function register(options: RegisterOptions): Promise<number> {
  // The flags' environment variables (CI_SERVER_URL, RUNNER_TOKEN, …) are read by the command line.
  const env = options.env;
  const { url, token, registrationToken } = options;
  if (!url) throw new UsageError("Missing --url (or CI_SERVER_URL)");
  if (!token && !registrationToken) throw new UsageError("Missing --token (or CI_SERVER_TOKEN / RUNNER_TOKEN)");
  const executor = options.executor ?? "shell";
  const configFile = options.configFile ?? defaultConfigFile(env);
  const client = new HttpClient(url);
  const info = runnerInfo({});
  let result;
  if (token) {
    if (!isRunnerAuthenticationToken(token) && registrationToken === undefined) {
      options.say("WARNING: this token is not a runner authentication token (glrt-); treating it as one");
    }
    const systemId = await loadSystemIdFor(configFile);
    result = await verifyRunner(client, { token, info, systemId });
  } else {
    options.say("WARNING: Registration tokens are deprecated and will be removed; create the runner in GitLab and use its glrt- token");
    const tagList = (options.tagList ?? "").split(",").map((t) => t.trim()).filter(Boolean);
    result = await registerRunner(client, {
      registrationToken: registrationToken!, info,
      parameters: {
        // A runner without tags must take untagged jobs: GitLab refuses it otherwise (commands/register.go).
        description: options.name ?? "", runUntagged: tagList.length === 0 ? true : (options.runUntagged ?? false),
        locked: options.locked ?? true, paused: options.paused ?? false,
        tagList,
      },
    });
  }
  if (result.kind !== "ok") {
    options.say(`ERROR: Registering runner... ${result.kind === "forbidden" ? "forbidden (check the token)" : "failed"}: ${result.message}`);
    return EXIT.jobFailed;
  }
  const config = existsSync(configFile) ? (await loadConfig(configFile, env)).config : configSchema.parse({ concurrent: 1, check_interval: 0 });
  const runner = runnerSchema.parse({
    name: options.name ?? "runner", url, token: result.token, executor,
    ...(result.id !== undefined ? { id: result.id } : {}),
    // As GitLab Runner keeps them (UTC, to the second), so that `run` can reset the token in time.
    token_obtained_at: new Date(Math.floor(Date.now() / 1000) * 1000),
    ...(result.tokenExpiresAt && !Number.isNaN(Date.parse(result.tokenExpiresAt)) ? { token_expires_at: new Date(result.tokenExpiresAt) } : {}),
    ...(options.shell ? { shell: options.shell } : {}),
    ...(options.buildsDir ? { builds_dir: options.buildsDir } : {}),
    ...(options.cacheDir ? { cache_dir: options.cacheDir } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
  });
  await mkdir(dirname(configFile), { recursive: true });
  await saveConfig(configFile, { ...config, runners: [...config.runners, runner] });
  options.say(`Runner registered successfully. Configuration (with the authentication token) was saved in "${configFile}"`);
  return EXIT.ok;
}

/** `runner verify`: asks GitLab whether each configured runner's token is valid; `--delete` drops the rest. */
export async function verify(options: CommandIO & { delete?: boolean }): Promise<number> {
  const configFile = options.configFile ?? defaultConfigFile(options.env);
  const { config } = await loadConfig(configFile, options.env);
  const systemId = await loadSystemId(configFile);
  const kept = [];
  let allValid = true;
  for (const runner of config.runners) {
    const result = await verifyRunner(new HttpClient(runner.url), { token: runner.token, info: runnerInfoFor(runner), systemId });
    const label = `Verifying runner... ${result.kind === "ok" ? "is valid" : result.kind === "forbidden" ? "is not valid" : `could not be checked: ${result.message}`}`;
    options.say(`${label}  runner=${shortToken(runner.token)} name=${runner.name}`);
    // Only a runner GitLab said is gone is removed; one that could not be checked stays.
    if (result.kind !== "forbidden" || !options.delete) kept.push(runner);
    if (result.kind !== "ok") allValid = false;
  }
  if (options.delete && kept.length !== config.runners.length) await saveConfig(configFile, { ...config, runners: kept });
  return allValid ? EXIT.ok : EXIT.jobFailed;
}

/** `runner unregister`: removes runners from GitLab and from config.toml. */
export async function unregister(
  options: CommandIO & { name?: string; token?: string; allRunners?: boolean },
): Promise<number> {
  const configFile = options.configFile ?? defaultConfigFile(options.env);
  const { config } = await loadConfig(configFile, options.env);
  const chosen = config.runners.filter((r) => options.allRunners || r.name === options.name || r.token === options.token);
  if (chosen.length === 0) throw new UsageError("No runner matches; give --name, --token or --all-runners");
  const systemId = await loadSystemId(configFile);
  const removed = new Set<RunnerConfig>();
  for (const runner of chosen) {
    const result = await unregisterRunner(new HttpClient(runner.url), {
      token: runner.token, ...(isRunnerAuthenticationToken(runner.token) ? { systemId } : {}),
    });
    options.say(`Unregistering runner from GitLab ${result.kind === "ok" ? "succeeded" : `failed: ${result.message}; it stays in ${configFile}`}  runner=${shortToken(runner.token)}`);
    // config.toml keeps what GitLab did not confirm removing: the runner still exists there.
    if (result.kind === "ok") removed.add(runner);
  }
  if (removed.size > 0) await saveConfig(configFile, { ...config, runners: config.runners.filter((r) => !removed.has(r)) } satisfies Config);
  return removed.size === chosen.length ? EXIT.ok : EXIT.jobFailed;
}

/** `runner list`: the configured runners, as GitLab Runner lists them. */
export async function list(options: CommandIO & { print: (line: string) => void }): Promise<number> {
  const configFile = options.configFile ?? defaultConfigFile(options.env);
  const { config } = await loadConfig(configFile, options.env);
  options.say(`Listing configured runners    ConfigFile=${configFile}`);
  const width = Math.max(0, ...config.runners.map((r) => r.name.length));
  for (const r of config.runners) {
    options.print(`${r.name.padEnd(width)}  Executor=${r.executor} Token=${shortToken(r.token)} URL=${r.url}`);
  }
  return EXIT.ok;
}

async function loadSystemIdFor(configFile: string): Promise<string> {
  await mkdir(dirname(configFile), { recursive: true });
  return loadSystemId(configFile);
}
