import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real OpenSSH server on 127.0.0.1 for the tests, with a key of its own and one for the client. */
export interface TestSshd {
  readonly port: number;
  readonly dir: string;
  readonly clientKey: string;
  /** A known_hosts file listing this server's key. */
  readonly knownHosts: string;
  /** The pid of the listening sshd. */
  readonly pid: number;
  stop(): Promise<void>;
}

const SSHD = "/usr/sbin/sshd";

/** Whether a real sshd can be started here; in CI it must be (`.ci/run` installs it). */
export function sshdAvailable(): boolean {
  const available = existsSync(SSHD);
  if (!available && process.env.CI === "true") throw new Error(`${SSHD} is missing in CI; .ci/run installs openssh-server`);
  if (!available) console.warn(`\n!!! SKIPPING the SSH suite: ${SSHD} is not installed (apt-get install openssh-server) !!!\n`);
  return available;
}

/**
 * `sftp: false`: no `Subsystem` line, as on hardened servers, Dropbear or busybox systems.
 * `path`: the PATH its sessions get (`SetEnv`), to make a host that lacks tools.
 */
export async function startSshd(options: { sftp?: boolean; path?: string } = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), "runner-sshd-"));
  const run = (...argv: string[]) => {
    const r = Bun.spawnSync(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  };
  run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key"));
  run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key"));
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const port = await freePort();
  writeFileSync(join(dir, "sshd_config"), [
    `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "PasswordAuthentication no", "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes", "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no",
    ...(options.sftp === false ? [] : ["Subsystem sftp internal-sftp"]), "MaxSessions 50", "MaxStartups 50",
    ...(options.path ? [`SetEnv PATH=${options.path}`] : []),
  ].join("\n"));
  const hostKey = readFileSync(join(dir, "host_key.pub"), "utf8").split(" ");
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey[0]} ${hostKey[1]}\n`);
  mkdirSync("/run/sshd", { recursive: true });
  const daemon = Bun.spawn([SSHD, "-D", "-e", "-f", join(dir, "sshd_config")], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; i < 100 && !(await accepts(port)); i++) await Bun.sleep(20);
  return {
    port, dir, clientKey: join(dir, "client_key"), knownHosts, pid: daemon.pid,
    async stop() {
      daemon.kill();
      await daemon.exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}
