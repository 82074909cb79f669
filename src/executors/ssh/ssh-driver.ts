import type { RunnerConfig } from "../../config/config-schema.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { ExecutorDriver } from "../executor.ts";
import type { SshSettings } from "./ssh-connection.ts";
import { createSshExecutor } from "./ssh-executor.ts";

/** `executor = "ssh"`: the job on `[runners.ssh] host`, in `builds_dir` there (default `builds`, from the login directory). */
export const sshDriver: ExecutorDriver = ({ runner, place }) =>
  createSshExecutor({ settings: sshSettings(runner), projectPath: place.relative, ...(runner.builds_dir ? { buildsDir: runner.builds_dir } : {}) });

/** `[runners.ssh]` with GitLab Runner's defaults (port 22, user root, known_hosts in ~/.ssh). */
export function sshSettings(runner: RunnerConfig): SshSettings {
  const ssh = runner.ssh;
  if (!ssh?.host) {
    throw new JobFailure("The ssh executor needs [runners.ssh] host", { failureReason: "runner_system_failure", system: true });
  }
  return {
    host: ssh.host, port: Number(ssh.port ?? 22), user: ssh.user ?? "root",
    disableStrictHostKeyChecking: ssh.disable_strict_host_key_checking ?? false,
    ...(ssh.password !== undefined ? { password: ssh.password } : {}),
    ...(ssh.identity_file ? { identityFile: ssh.identity_file } : {}),
    ...(ssh.known_hosts_file ? { knownHostsFile: ssh.known_hosts_file } : {}),
  };
}
