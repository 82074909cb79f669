import type { RunnerConfig } from "../config/config-schema.ts";
import { EXECUTOR_NAMES } from "../runners/executor-registry.ts";
import { homedir } from "node:os";
import { join } from "node:path";
import { loadConfig, saveConfig } from "../config/config-file.ts";
import { configSchema, runnerSchema, type Config } from "../config/config-schema.ts";
import { loadSystemId } from "../config/system-id.ts";
import { createLogger, type Logger } from "../daemon/logger.ts";
import { Metrics } from "../daemon/metrics.ts";
import { runPoller, type PollerOptions, type StopSignals } from "../daemon/poller.ts";
import { rotateTokens } from "../daemon/token-rotation.ts";
import { EXIT, UsageError } from "./exit-codes.ts";
import { systemInterruptReason } from "../protocol/job-failure.ts";
import { resolveFeatureFlags } from "../job/feature-flags.ts";

/** GitLab Runner's default config file: system-wide for root, per user otherwise. */
export function defaultConfigFile(env: Record<string, string>): string {
  if (env.CONFIG_FILE) return env.CONFIG_FILE;
  return process.getuid?.() === 0 ? "/etc/gitlab-runner/config.toml" : join(env.HOME ?? homedir(), ".gitlab-runner", "config.toml");
}

/**
 * GitLab Runner's signals: SIGQUIT stops asking for jobs and lets running ones finish; SIGTERM and
 * SIGINT also abort running jobs (their final updates are still sent) and give them
 * `shutdown_timeout` seconds before even cleanup is cut short and the process exits.
 */
export function daemonSignals(shutdownTimeoutSeconds: number, log: Logger): StopSignals & { dispose(): void } {
  const stopPolling = new AbortController();
  const abort = new AbortController();
  const deadline = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceful = () => {
    log.warn("Stopping to ask for jobs; running jobs will finish (SIGQUIT)");
    stopPolling.abort();
  };
  const forceful = (signal: "SIGTERM" | "SIGINT") => {
    if (abort.signal.aborted) {
      deadline.abort();
      return;
    }
    log.warn(`Aborting running jobs and exiting (${signal})`, { shutdown_timeout: shutdownTimeoutSeconds });
    stopPolling.abort();
    abort.abort(systemInterruptReason(signal));
    const ms = (shutdownTimeoutSeconds > 0 ? shutdownTimeoutSeconds : 30) * 1000;
    timer = setTimeout(() => {
      deadline.abort();
      // Whatever has not ended by the deadline is left to the operating system.
      setTimeout(() => process.exit(EXIT.jobFailed), 1000).unref();
    }, ms);
    timer.unref();
  };
  const onTerm = () => forceful("SIGTERM");
  const onInt = () => forceful("SIGINT");
  process.on("SIGQUIT", graceful);
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return {
    stopPolling: stopPolling.signal, abort: abort.signal, deadline: deadline.signal,
    dispose() {
      process.off("SIGQUIT", graceful);
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      if (timer) clearTimeout(timer);
    },
  };
}

interface DaemonIO {
  readonly env: Record<string, string>;
  readonly writeLog: (line: string) => void;
}

/** `runner run`: the daemon for every `[[runners]]` of config.toml. */
export async function runDaemon(options: DaemonIO & { configFile?: string; listenAddress?: string }): Promise<number> {
  const configFile = options.configFile ?? defaultConfigFile(options.env);
  const { config, warnings, notes } = await loadConfig(configFile, options.env, EXECUTOR_NAMES);
  const log = createLogger({ level: config.log_level, format: config.log_format, write: options.writeLog });
  for (const warning of warnings) log.warn(warning);
  // A feature flag of [runners.feature_flags] this runner does not take as asked is said at start too.
  config.runners.forEach((runner, i) => {
    for (const warning of resolveFeatureFlags(runner.feature_flags, []).warnings) log.warn(`${configFile}: runners[${i}].feature_flags: ${warning}`);
  });
  for (const note of notes) log.info(note);
  if (config.runners.length === 0) log.warn(`No runners in ${configFile}; register one with runner register`);
  const systemId = await loadSystemId(configFile);
  // Tokens that expire are reset before they do, and config.toml is rewritten with the new ones.
  const stopRotating = new AbortController();
  const rotation = rotateTokens({ runners: config.runners, save: () => saveConfig(configFile, config), log, signal: stopRotating.signal })
    .catch((error) => log.error("Token rotation stopped", { error: String(error) }));
  try {
    return await serve(config, { ...options, log, systemId, listenAddress: options.listenAddress ?? config.listen_address });
  } finally {
    stopRotating.abort();
    await rotation;
  }
}

/** The options of `runner run-single` (GitLab Runner's flags). */
export interface RunSingleOptions extends DaemonIO {
  readonly url?: string;
  readonly token?: string;
  readonly executor?: string;
  readonly name?: string;
  readonly shell?: string;
  readonly buildsDir?: string;
  readonly cacheDir?: string;
  /** `--docker-image`, `--docker-helper-image`, `--docker-pull-policy` (GitLab Runner's names). */
  readonly docker?: { readonly image?: string | undefined; readonly helperImage?: string | undefined; readonly pullPolicy?: string | undefined };
  readonly maxBuilds?: number;
  /** `--ssh-*`: `[runners.ssh]`. */
  readonly ssh?: NonNullable<RunnerConfig["ssh"]>;
  /** `--custom-*`: `[runners.custom]`. */
  readonly custom?: Record<string, unknown>;
  /** `--cache-*`: `[runners.cache]`. */
  readonly cache?: RunnerConfig["cache"];
  readonly waitTimeout?: number;
  readonly outputLimit?: number;
  readonly listenAddress?: string;
}

/** `runner run-single`: one runner from flags (or GitLab Runner's variables), no config file. */
export async function runSingle(options: RunSingleOptions): Promise<number> {
  // The flags' environment variables (CI_SERVER_URL, RUNNER_EXECUTOR, …) are read by the command line.
  const { url, token } = options;
  if (!url) throw new UsageError("Missing --url (or CI_SERVER_URL)");
  if (!token) throw new UsageError("Missing --token (or CI_SERVER_TOKEN / RUNNER_TOKEN)");
  const executor = options.executor ?? "shell";
  if (!EXECUTOR_NAMES.includes(executor)) throw new UsageError(`--executor ${executor}: this runner has ${EXECUTOR_NAMES.join(", ")}`);
  const docker = options.docker;
  if (options.cache) {
    const { cacheProblems } = await import("../config/config-honesty.ts");
    const problems = cacheProblems(options.cache as Record<string, unknown>, "--cache", []);
    if (problems.length > 0) throw new UsageError(problems.join("; "));
  }
  const runner = runnerSchema.parse({
    name: options.name ?? "run-single", url, token, executor,
    ...(options.shell ? { shell: options.shell } : {}),
    ...(options.buildsDir ? { builds_dir: options.buildsDir } : {}),
    ...(options.cacheDir ? { cache_dir: options.cacheDir } : {}),
    ...(options.outputLimit ? { output_limit: options.outputLimit } : {}),
    ...(executor === "ssh" ? { ssh: options.ssh ?? {} } : {}),
    ...(executor === "custom" ? { custom: options.custom ?? {} } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    ...(executor === "docker"
      ? {
          docker: {
            ...(docker?.image ? { image: docker.image } : {}), ...(docker?.helperImage ? { helper_image: docker.helperImage } : {}),
            ...(docker?.pullPolicy ? { pull_policy: docker.pullPolicy } : {}),
          },
        }
      : {}),
  });
  const config = configSchema.parse({ concurrent: 1, runners: [] });
  const log = createLogger({ level: "info", format: "runner", write: options.writeLog });
  // No config file to keep it beside: derived from the machine id (stable across runs), as GitLab Runner's.
  const { computeSystemId } = await import("../config/system-id.ts");
  return serve({ ...config, runners: [runner] }, {
    ...options, log, systemId: computeSystemId("/etc/machine-id"),
    ...(options.maxBuilds ? { maxBuilds: options.maxBuilds } : {}),
    ...(options.waitTimeout ? { waitTimeoutSeconds: options.waitTimeout } : {}),
  });
}

/** What a crashed earlier run of a Docker runner left behind (containers, networks, volumes) is removed at start-up. */
async function removeDockerLeftovers(config: Config, log: Logger): Promise<void> {
  const dockerRunners = config.runners.filter((r) => r.executor === "docker");
  if (dockerRunners.length === 0) return;
  const [{ DockerApi }, { dockerEndpoint }, { removeLeftovers }, { shortToken }] = await Promise.all([
    import("../executors/docker/docker-api.ts"), import("../executors/docker/docker-endpoint.ts"),
    import("../executors/docker/labels.ts"), import("../protocol/token.ts"),
  ]);
  for (const runner of dockerRunners) {
    const docker = runner.docker ?? {};
    const api = new DockerApi(dockerEndpoint(docker, process.env));
    const removed = await removeLeftovers(api, shortToken(runner.token)).catch((error: unknown) => {
      log.warn("Could not look for leftovers of an earlier run", { runner: runner.name, error: String(error) });
      return 0;
    });
    if (removed > 0) log.info("Removed what an earlier run left behind", { runner: runner.name, removed });
  }
}

async function serve(
  config: Config,
  options: DaemonIO & {
    log: Logger; systemId?: string; listenAddress?: string; maxBuilds?: number; waitTimeoutSeconds?: number;
  } & Pick<PollerOptions, "timing">,
): Promise<number> {
  const metrics = new Metrics({ config, ...(options.systemId ? { systemId: options.systemId } : {}) });
  // Every warning and error the runner logs is counted (gitlab_runner_errors_total), as GitLab Runner's log hook does.
  const log = countingLogger(options.log, metrics);
  const signals = daemonSignals(config.shutdown_timeout, log);
  const server = options.listenAddress ? metrics.serve(options.listenAddress) : undefined;
  if (server) log.info("Metrics server listening", { address: server.url });
  // --wait-timeout: give up when no job has come within that many seconds.
  const stopWaiting = new AbortController();
  const waitTimer = options.waitTimeoutSeconds
    ? setTimeout(() => {
        log.warn("No job received within --wait-timeout; stopping");
        stopWaiting.abort();
      }, options.waitTimeoutSeconds * 1000)
    : undefined;
  log.info("Starting runner", { concurrent: config.concurrent, runners: config.runners.length, system_id: options.systemId ?? "" });
  await removeDockerLeftovers(config, log);
  try {
    await runPoller({
      config, hostEnv: options.env, log, metrics,
      signals: { ...signals, stopPolling: AbortSignal.any([signals.stopPolling, stopWaiting.signal]) },
      ...(options.systemId ? { systemId: options.systemId } : {}),
      ...(options.maxBuilds ? { maxBuilds: options.maxBuilds } : {}),
      onJobStarted: () => clearTimeout(waitTimer),
    });
  } finally {
    clearTimeout(waitTimer);
    signals.dispose();
    server?.stop();
  }
  log.info("Runner stopped");
  return EXIT.ok;
}

function countingLogger(log: Logger, metrics: Metrics): Logger {
  return {
    debug: (m, f) => log.debug(m, f),
    info: (m, f) => log.info(m, f),
    warn: (m, f) => (metrics.logged("warning"), log.warn(m, f)),
    error: (m, f) => (metrics.logged("error"), log.error(m, f)),
  };
}
