import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { Client } from "ssh2";
import { JobFailure } from "../../protocol/job-failure.ts";
import { checkHostKey, type HostKeyVerdict } from "./known-hosts.ts";

/** `[runners.ssh]` (docs/protocol.md §12), with GitLab Runner's defaults applied. */
export interface SshSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly identityFile?: string;
  readonly disableStrictHostKeyChecking: boolean;
  /** Default `~/.ssh/known_hosts`. */
  readonly knownHostsFile?: string;
}

/** `host:port` as the messages name it. */
export function address(settings: SshSettings): string {
  return `${settings.host}:${settings.port}`;
}

/**
 * Opens one SSH connection. The host key is checked against known_hosts unless checking is
 * disabled: an unknown or changed key refuses the connection with a message naming its fingerprint.
 */
export async function connectSsh(settings: SshSettings, signal?: AbortSignal): Promise<Client> {
  const knownHostsFile = settings.knownHostsFile ?? `${homedir()}/.ssh/known_hosts`;
  const knownHosts = existsSync(knownHostsFile) ? readFileSync(knownHostsFile, "utf8") : "";
  let verdict: HostKeyVerdict | undefined;
  const client = new Client();
  const privateKey = settings.identityFile ? readKey(settings.identityFile) : undefined;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      client.end();
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    client.once("ready", () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    client.once("error", (error: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(connectionFailure(settings, error, verdict, knownHostsFile));
    });
    client.connect({
      host: settings.host, port: settings.port, username: settings.user,
      ...(settings.password !== undefined ? { password: settings.password } : {}),
      ...(privateKey ? { privateKey } : {}),
      readyTimeout: 30_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        verdict = checkHostKey(knownHosts, settings.host, settings.port, key);
        return settings.disableStrictHostKeyChecking || verdict.kind === "known";
      },
    });
  });
  return client;
}

function readKey(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new JobFailure(`ssh: cannot read the identity file ${file}: ${(error as Error).message}`, {
      failureReason: "runner_system_failure", system: true,
    });
  }
}

function connectionFailure(settings: SshSettings, error: Error, verdict: HostKeyVerdict | undefined, knownHostsFile: string): JobFailure {
  const where = address(settings);
  let message: string;
  if (verdict?.kind === "unknown" && !settings.disableStrictHostKeyChecking) {
    message = `ssh: the host key of ${where} (${verdict.fingerprint}) is not in ${knownHostsFile}; add it, or set disable_strict_host_key_checking`;
  } else if (verdict?.kind === "changed" && !settings.disableStrictHostKeyChecking) {
    message = `ssh: the host key of ${where} has changed: it is now ${verdict.fingerprint}, which ${knownHostsFile} does not list for it; refusing to connect`;
  } else if (verdict?.kind === "revoked") {
    message = `ssh: the host key of ${where} (${verdict.fingerprint}) is revoked in ${knownHostsFile}`;
  } else {
    message = `ssh: cannot connect to ${where}: ${error.message}`;
  }
  return new JobFailure(message, { failureReason: "runner_system_failure", system: true, cause: error });
}
