import { posix } from "node:path";
import type { Client, ClientChannel, SFTPWrapper } from "ssh2";
import { TRACKING_VARIABLE } from "../../shell/job-processes.ts";
import { quotePosix } from "../../shell/quote.ts";
import { stopGroupScript, stopTrackedScript } from "../../shell/remote-stop.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { BuildFiles } from "../build-files.ts";
import type { BuildDirectories, Executor, StageCommand, StageOutput } from "../executor.ts";
import { address, connectSsh, type SshSettings } from "./ssh-connection.ts";
import { sftpFiles } from "./sftp-files.ts";

export interface SshExecutorOptions {
  readonly settings: SshSettings;
  /** `builds_dir` on the remote host; relative paths are relative to the login directory (default `builds`). */
  readonly buildsDir?: string;
  /** The job's directory below the builds directory, e.g. `<short token>/0/acme/widget`. */
  readonly projectPath: string;
  /** How long a stage's process group has after TERM before KILL (default 5000 ms). */
  readonly graceMs?: number;
}

/**
 * Runs every stage on a remote host over one SSH connection: each stage a fresh session running
 * the generated script with `bash` (or `sh` when the host has no bash), the script on its stdin.
 * Nothing needs to be installed there. Files move over SFTP. Cancel stops the stage's whole remote
 * process group, not just the channel.
 */
export function createSshExecutor(options: SshExecutorOptions): Executor {
  let client: Client | undefined;
  let sftp: SFTPWrapper | undefined;
  let files: BuildFiles | undefined;
  let directories: BuildDirectories | undefined;
  let shell: ShellName = "bash";
  const graceMs = options.graceMs ?? 5000;
  const where = address(options.settings);
  const trackingId = `runner-${crypto.randomUUID()}`;
  let stages = 0;

  const exec = (command: string) =>
    new Promise<ClientChannel>((resolve, reject) => {
      if (!client) return reject(new Error("not connected"));
      client.exec(command, (error, channel) => (error ? reject(lost(where, error)) : resolve(channel)));
    });
  /** Runs a small command of the runner's own and returns its exit code. */
  const control = async (command: string): Promise<number> => {
    const channel = await exec(command);
    return new Promise((resolve) => {
      let code = -1;
      channel.on("exit", (c: number | null) => (code = c ?? -1));
      channel.on("close", () => resolve(code));
      channel.resume();
      channel.stderr.resume();
    });
  };

  return {
    name: "ssh",
    get shell() {
      return shell;
    },
    description: `Using SSH executor...`,
    describeExit: (code) => `Process exited with status ${code}`,
    environment: "shared",
    local: false,
    get directories(): BuildDirectories {
      if (!directories) throw new Error("The SSH executor is not prepared yet");
      return directories;
    },
    get files(): BuildFiles {
      if (!files) throw new Error("The SSH executor is not prepared yet");
      return files;
    },
    async prepare({ signal }) {
      client = await connectSsh(options.settings, signal);
      client.on("error", () => {});
      sftp = await new Promise<SFTPWrapper>((resolve, reject) => client!.sftp((e, s) => (e ? reject(lost(where, e)) : resolve(s))));
      files = sftpFiles(sftp);
      const home = await files.realpath(".");
      const builds = posix.resolve(home, options.buildsDir ?? "builds");
      const projectDir = posix.join(builds, options.projectPath);
      directories = { buildsDir: builds, projectDir, tmpDir: `${projectDir}.tmp` };
      await files.mkdir(builds);
      shell = (await control("command -v bash >/dev/null 2>&1")) === 0 ? "bash" : "sh";
    },
    async run(command: StageCommand, output: StageOutput) {
      const pidFile = `/tmp/runner-stage-${crypto.randomUUID()}.pid`;
      // Every process of the stage carries the stage's marker, so that what leaves its group
      // (setsid) is found and stopped with it; the job's marker is the prefix of all its stages'.
      const entry = `${TRACKING_VARIABLE}=${trackingId}.${++stages}`;
      // sshd makes the command's shell the leader of a new session, so `$$` after `exec` is the
      // process group of everything the stage starts; it is written down so that cancel can stop it.
      const launch = `export ${entry}; ` + (shell === "bash"
        ? `exec bash --norc --noprofile -c ${quotePosix(`echo $$ > ${pidFile}; eval "$(cat)"`)}`
        : `exec sh -c ${quotePosix(`echo $$ > ${pidFile}; eval "$(cat)"`)}`);
      const channel = await exec(launch);
      const stopGroup = () =>
        control(`${stopGroupScript({ pidFile, graceMs })}; ${stopTrackedScript({ entry, graceMs })}`).catch(() => -1);
      let stopping: Promise<number> | undefined;
      const onAbort = () => void (stopping ??= stopGroup());
      command.signal.addEventListener("abort", onAbort, { once: true });
      try {
        const exitCode = await new Promise<number>((resolve, reject) => {
          let code: number | undefined;
          let signalName: string | undefined;
          let leftovers: ReturnType<typeof setTimeout> | undefined;
          channel.on("data", (chunk: Buffer) => output.stdout.write(chunk));
          channel.stderr.on("data", (chunk: Buffer) => output.stderr.write(chunk));
          channel.on("exit", (c: number | null, s?: string) => {
            code = c ?? undefined;
            signalName = s;
            // Leftovers of the stage (background jobs) keep the channel open: stop them.
            leftovers = setTimeout(() => void (stopping ??= stopGroup()), 100);
          });
          channel.on("close", () => {
            clearTimeout(leftovers);
            if (code !== undefined) resolve(code);
            else if (signalName) resolve(128 + (SIGNALS[signalName] ?? 0));
            else if (command.signal.aborted) resolve(137);
            else reject(lost(where, new Error("the connection closed before the stage ended")));
          });
          channel.end(command.script);
        });
        await stopping;
        // Detached leftovers (`setsid … >/dev/null &`) do not hold the channel: they are stopped
        // while the next stage starts (it has a marker of its own).
        if (!stopping) void control(`rm -f ${pidFile}; ${stopTrackedScript({ entry, graceMs })}`).catch(() => {});
        return { exitCode };
      } finally {
        command.signal.removeEventListener("abort", onAbort);
      }
    },
    async cleanup() {
      // Nothing the job started outlives it, in whatever stage it was started.
      if (client) await control(stopTrackedScript({ entry: `${TRACKING_VARIABLE}=${trackingId}.`, graceMs })).catch(() => {});
      try {
        sftp?.end();
        client?.end();
      } catch {
        // Already closed.
      }
      client = undefined;
    },
  };
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15, PIPE: 13 };

/** The connection to the host is gone: a runner system failure, said plainly. */
function lost(where: string, error: Error): JobFailure {
  return new JobFailure(`ssh: the connection to ${where} was lost: ${error.message}`, {
    failureReason: "runner_system_failure", system: true, cause: error,
  });
}
