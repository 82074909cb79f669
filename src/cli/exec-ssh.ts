import type { RunnerConfig } from "../config/config-schema.ts";
import { EXECUTOR_NAMES } from "../runners/executor-registry.ts";
import { UsageError } from "./exit-codes.ts";

type SshSection = NonNullable<RunnerConfig["ssh"]>;

/** The `--ssh-*` flags of `runner exec`. */
export interface SshFlags {
  readonly configFile?: string;
  readonly env: Record<string, string>;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly identityFile?: string;
  readonly knownHostsFile?: string;
  readonly disableStrictHostKeyChecking?: boolean;
  readonly buildsDir?: string;
}

/**
 * `[runners.ssh]` for `runner exec --executor ssh`: the `--ssh-*` flags, over the `[runners.ssh]` of
 * the first SSH runner in `--config` when one is given; the user is the login name unless one is
 * given, as ssh(1)'s.
 */
export async function sshSectionFrom(flags: SshFlags): Promise<{ section: SshSection; buildsDir?: string }> {
  let configured: RunnerConfig | undefined;
  if (flags.configFile) {
    const { loadConfig } = await import("../config/config-file.ts");
    const { config } = await loadConfig(flags.configFile, flags.env, EXECUTOR_NAMES);
    configured = config.runners.find((r) => r.executor === "ssh") ?? config.runners.find((r) => r.ssh?.host);
  }
  const from = configured?.ssh ?? {};
  const host = flags.host ?? from.host;
  if (!host) throw new UsageError("--executor ssh needs --ssh-host (or a [runners.ssh] host in --config)");
  const pick = <K extends keyof SshSection>(key: K, flag: SshSection[K] | undefined) =>
    (flag ?? from[key]) !== undefined ? { [key]: flag ?? from[key] } : {};
  const section: SshSection = {
    ...from, host,
    user: flags.user ?? from.user ?? flags.env.USER ?? "root",
    ...pick("port", flags.port), ...pick("password", flags.password), ...pick("identity_file", flags.identityFile),
    ...pick("known_hosts_file", flags.knownHostsFile), ...pick("disable_strict_host_key_checking", flags.disableStrictHostKeyChecking),
  };
  const buildsDir = flags.buildsDir ?? configured?.builds_dir;
  return { section, ...(buildsDir ? { buildsDir } : {}) };
}
