import { Option, type Command } from "@commander-js/extra-typings";
import type { RunnerConfig } from "../../config/config-schema.ts";
import { collect, portNumber, positiveInteger } from "./command-kit.ts";

/**
 * The flags of `[runners.ssh]` and `[runners.custom]`, with GitLab Runner's names and variables
 * (`gitlab-runner run-single --help`): `--ssh-host` [SSH_HOST], `--custom-run-exec` [CUSTOM_RUN_EXEC]…
 */
export interface ExecutorFlagValues {
  sshHost?: string; sshPort?: number; sshUser?: string; sshPassword?: string; sshIdentityFile?: string;
  sshKnownHostsFile?: string; sshDisableStrictHostKeyChecking?: boolean;
  customConfigExec?: string; customConfigArgs?: string[]; customConfigExecTimeout?: number;
  customPrepareExec?: string; customPrepareArgs?: string[]; customPrepareExecTimeout?: number;
  customRunExec?: string; customRunArgs?: string[];
  customCleanupExec?: string; customCleanupArgs?: string[]; customCleanupExecTimeout?: number;
  customGracefulKillTimeout?: number; customForceKillTimeout?: number;
}

/** Adds the ssh and custom executors' flags to a command. */
export function addExecutorFlags<C extends Command<any, any, any>>(command: C): C {
  for (const option of executorFlagOptions()) command.addOption(option);
  return command;
}

/** The ssh and custom executors' flags. */
export function executorFlagOptions(): Option[] {
  const seconds = (name: string, text: string, env: string) => new Option(`--${name} <seconds>`, text).env(env).argParser(positiveInteger);
  const args = (name: string, text: string) => new Option(`--${name} <arg>`, `${text} (repeatable)`).argParser(collect).default([] as string[]);
  return [
    new Option("--ssh-host <host>", "ssh executor: the host").env("SSH_HOST"),
    new Option("--ssh-port <port>", "ssh executor: the port (22)").env("SSH_PORT").argParser(portNumber),
    new Option("--ssh-user <user>", "ssh executor: the user").env("SSH_USER"),
    new Option("--ssh-password <password>", "ssh executor: the password").env("SSH_PASSWORD"),
    new Option("--ssh-identity-file <file>", "ssh executor: the private key").env("SSH_IDENTITY_FILE"),
    new Option("--ssh-known-hosts-file <file>", "ssh executor: known_hosts (~/.ssh/known_hosts)").env("KNOWN_HOSTS_FILE"),
    new Option("--ssh-disable-strict-host-key-checking", "ssh executor: accept any host key").env("DISABLE_STRICT_HOST_KEY_CHECKING"),
    new Option("--custom-config-exec <file>", "custom executor: the executable that configures the job").env("CUSTOM_CONFIG_EXEC"),
    args("custom-config-args", "custom executor: an argument of config_exec"),
    seconds("custom-config-exec-timeout", "custom executor: config_exec's timeout", "CUSTOM_CONFIG_EXEC_TIMEOUT"),
    new Option("--custom-prepare-exec <file>", "custom executor: the executable that prepares the environment").env("CUSTOM_PREPARE_EXEC"),
    args("custom-prepare-args", "custom executor: an argument of prepare_exec"),
    seconds("custom-prepare-exec-timeout", "custom executor: prepare_exec's timeout", "CUSTOM_PREPARE_EXEC_TIMEOUT"),
    new Option("--custom-run-exec <file>", "custom executor: the executable that runs each stage script").env("CUSTOM_RUN_EXEC"),
    args("custom-run-args", "custom executor: an argument of run_exec"),
    new Option("--custom-cleanup-exec <file>", "custom executor: the executable that cleans the environment up").env("CUSTOM_CLEANUP_EXEC"),
    args("custom-cleanup-args", "custom executor: an argument of cleanup_exec"),
    seconds("custom-cleanup-exec-timeout", "custom executor: cleanup_exec's timeout", "CUSTOM_CLEANUP_EXEC_TIMEOUT"),
    seconds("custom-graceful-kill-timeout", "custom executor: after TERM, how long before KILL", "CUSTOM_GRACEFUL_KILL_TIMEOUT"),
    seconds("custom-force-kill-timeout", "custom executor: after KILL, how long before giving up", "CUSTOM_FORCE_KILL_TIMEOUT"),
  ];
}

/** `[runners.ssh]` as the flags give it (only what they name). */
export function sshSectionOf(flags: ExecutorFlagValues): NonNullable<RunnerConfig["ssh"]> {
  return {
    ...(flags.sshHost ? { host: flags.sshHost } : {}), ...(flags.sshPort ? { port: flags.sshPort } : {}),
    ...(flags.sshUser ? { user: flags.sshUser } : {}), ...(flags.sshPassword !== undefined ? { password: flags.sshPassword } : {}),
    ...(flags.sshIdentityFile ? { identity_file: flags.sshIdentityFile } : {}),
    ...(flags.sshKnownHostsFile ? { known_hosts_file: flags.sshKnownHostsFile } : {}),
    ...(flags.sshDisableStrictHostKeyChecking !== undefined ? { disable_strict_host_key_checking: flags.sshDisableStrictHostKeyChecking } : {}),
  };
}

/** `[runners.custom]` as the flags give it (only what they name). */
export function customSectionOf(flags: ExecutorFlagValues): Record<string, unknown> {
  const entries: [string, unknown][] = [
    ["config_exec", flags.customConfigExec], ["config_args", flags.customConfigArgs], ["config_exec_timeout", flags.customConfigExecTimeout],
    ["prepare_exec", flags.customPrepareExec], ["prepare_args", flags.customPrepareArgs], ["prepare_exec_timeout", flags.customPrepareExecTimeout],
    ["run_exec", flags.customRunExec], ["run_args", flags.customRunArgs],
    ["cleanup_exec", flags.customCleanupExec], ["cleanup_args", flags.customCleanupArgs], ["cleanup_exec_timeout", flags.customCleanupExecTimeout],
    ["graceful_kill_timeout", flags.customGracefulKillTimeout], ["force_kill_timeout", flags.customForceKillTimeout],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}
