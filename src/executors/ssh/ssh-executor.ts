import { posix } from "node:path";
import type { Client, ClientChannel, SFTPWrapper } from "ssh2";
import { TRACKING_VARIABLE } from "../../shell/job-processes.ts";
import { remoteProcessGroup, stopProcessGroup } from "../../shell/process-group.ts";
import { quotePosix } from "../../shell/quote.ts";
import { stopTrackedScript } from "../../shell/remote-stop.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { BuildFiles } from "../build-files.ts";
import type { BuildDirectories, Executor, StageCommand, StageOutput } from "../executor.ts";
import { address, connectSsh, type SshSettings } from "./ssh-connection.ts";
import { sftpFiles } from "./sftp-files.ts";
import { SHELL_FILE_TOOLS, shellFiles, type RemoteProcess } from "../shell-files/shell-files.ts";

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
  return new SshExecutor(options);
}

class SshExecutor implements Executor {
  readonly name = "ssh";
  readonly description = "Using SSH executor...";
  readonly environment = "shared";
  readonly local = false;
  shell: ShellName = "bash";
  readonly #options: SshExecutorOptions;
  readonly #where: string;
  readonly #trackingId = `runner-${crypto.randomUUID()}`;
  #stages = 0;
  #client: Client | undefined;
  #sftp: SFTPWrapper | undefined;
  #files: BuildFiles | undefined;
  #closeFiles: () => void = () => {};
  #directories: BuildDirectories | undefined;

  constructor(options: SshExecutorOptions) {
    this.#options = options;
    this.#where = address(options.settings);
  }

  describeExit(code: number): string {
    return `Process exited with status ${code}`;
  }

  get directories(): BuildDirectories {
    if (!this.#directories) throw new Error("The SSH executor is not prepared yet");
    return this.#directories;
  }

  get files(): BuildFiles {
    if (!this.#files) throw new Error("The SSH executor is not prepared yet");
    return this.#files;
  }

  async prepare({ signal, log = () => {} }: { signal: AbortSignal; log?: (line: string) => void }): Promise<void> {
    const client = (this.#client = await connectSsh(this.#options.settings, signal));
    client.on("error", () => {});
    const files = (this.#files = await this.#connectFiles(client, log));
    const home = await files.realpath(".");
    const builds = posix.resolve(home, this.#options.buildsDir ?? "builds");
    const projectDir = posix.join(builds, this.#options.projectPath);
    this.#directories = { buildsDir: builds, projectDir, tmpDir: `${projectDir}.tmp` };
    await files.mkdir(builds);
    this.shell = (await this.#control("command -v bash >/dev/null 2>&1")) === 0 ? "bash" : "sh";
  }

  async run(command: StageCommand, output: StageOutput): Promise<{ exitCode: number }> {
    const graceMs = this.#options.graceMs ?? 5000;
    const pidFile = `/tmp/runner-stage-${crypto.randomUUID()}.pid`;
    // Every process of the stage carries the stage's marker, so that what leaves its group
    // (setsid) is found and stopped with it; the job's marker is the prefix of all its stages'.
    const entry = `${TRACKING_VARIABLE}=${this.#trackingId}.${++this.#stages}`;
    const channel = await this.#exec(launchCommand(this.shell, entry, pidFile));
    const group = remoteProcessGroup((cmd) => this.#control(cmd).catch(() => -1), pidFile);
    const stopStage = async () => {
      await stopProcessGroup(group, { graceMs, pollMs: 100 });
      await this.#control(`rm -f ${quotePosix(pidFile)}; ${stopTrackedScript({ entry, graceMs })}`).catch(() => -1);
    };
    let stopping: Promise<void> | undefined;
    const onAbort = () => void (stopping ??= stopStage());
    command.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const exitCode = await this.#stageEnd(channel, command, output, () => void (stopping ??= stopStage()));
      await stopping;
      // Detached leftovers (`setsid … >/dev/null &`) do not hold the channel: they are stopped
      // while the next stage starts (it has a marker of its own).
      if (!stopping) void this.#control(`rm -f ${quotePosix(pidFile)}; ${stopTrackedScript({ entry, graceMs })}`).catch(() => {});
      return { exitCode };
    } finally {
      command.signal.removeEventListener("abort", onAbort);
    }
  }

  async cleanup(): Promise<void> {
    // Nothing the job started outlives it, in whatever stage it was started.
    const graceMs = this.#options.graceMs ?? 5000;
    if (this.#client) await this.#control(stopTrackedScript({ entry: `${TRACKING_VARIABLE}=${this.#trackingId}.`, graceMs })).catch(() => {});
    try {
      this.#closeFiles();
      this.#sftp?.end();
      this.#client?.end();
    } catch {
      // Already closed.
    }
    this.#client = undefined;
  }

  /**
   * SFTP where the host offers it; else the host's own tools through the session (cat, find,
   * stat…), as GitLab Runner's SSH executor needs nothing but a shell; a host without those is
   * named with what it lacks.
   */
  async #connectFiles(client: Client, log: (line: string) => void): Promise<BuildFiles> {
    const sftp = await new Promise<SFTPWrapper | Error>((resolve) => client.sftp((e, s) => resolve(e ?? s)));
    if (!(sftp instanceof Error)) {
      this.#sftp = sftp;
      return sftpFiles(sftp);
    }
    const missing = await this.#missingTools();
    if (missing.length > 0) {
      throw new JobFailure(`ssh: ${this.#where} offers no SFTP (${sftp.message}), and files cannot move through the session: the host lacks ${missing.join(", ")}`, {
        failureReason: "runner_system_failure", system: true,
      });
    }
    log(`${this.#where} offers no SFTP (${sftp.message}): files move through the session with the host's cat, find and stat`);
    const files = shellFiles((script) => this.#process(script));
    this.#closeFiles = () => files.close();
    return files;
  }

  async #missingTools(): Promise<string[]> {
    const channel = await this.#exec(`for t in ${SHELL_FILE_TOOLS.join(" ")}; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done`);
    const chunks: Buffer[] = [];
    channel.on("data", (chunk: Buffer) => chunks.push(chunk));
    channel.stderr.resume();
    await new Promise((done) => channel.on("close", done));
    return Buffer.concat(chunks).toString().split("\n").filter(Boolean);
  }

  /** A command of the runner's own with its streams (for files through the session). */
  async #process(script: string): Promise<RemoteProcess> {
    const channel = await this.#exec(script);
    const exit = new Promise<number>((resolve) => {
      let code = -1;
      channel.on("exit", (c: number | null) => (code = c ?? -1));
      channel.on("close", () => resolve(code));
    });
    return { stdin: channel, stdout: channel, stderr: channel.stderr, exit };
  }

  /** The stage's exit code once its channel closes; `leftovers` is called when the shell exited but the channel stays open. */
  #stageEnd(channel: ClientChannel, command: StageCommand, output: StageOutput, leftovers: () => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let code: number | undefined;
      let signalName: string | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      channel.on("data", (chunk: Buffer) => output.stdout.write(chunk));
      channel.stderr.on("data", (chunk: Buffer) => output.stderr.write(chunk));
      channel.on("exit", (c: number | null, s?: string) => {
        code = c ?? undefined;
        signalName = s;
        // Leftovers of the stage (background jobs) keep the channel open: stop them.
        timer = setTimeout(leftovers, 100);
      });
      channel.on("close", () => {
        clearTimeout(timer);
        if (code !== undefined) resolve(code);
        else if (signalName) resolve(128 + (SIGNALS[signalName] ?? 0));
        else if (command.signal.aborted) resolve(137);
        else reject(lost(this.#where, new Error("the connection closed before the stage ended")));
      });
      channel.end(command.script);
    });
  }

  #exec(command: string): Promise<ClientChannel> {
    return new Promise<ClientChannel>((resolve, reject) => {
      if (!this.#client) return reject(new Error("not connected"));
      this.#client.exec(command, (error, channel) => (error ? reject(lost(this.#where, error)) : resolve(channel)));
    });
  }

  /** Runs a small command of the runner's own and returns its exit code. */
  async #control(command: string): Promise<number> {
    const channel = await this.#exec(command);
    return new Promise((resolve) => {
      let code = -1;
      channel.on("exit", (c: number | null) => (code = c ?? -1));
      channel.on("close", () => resolve(code));
      channel.resume();
      channel.stderr.resume();
    });
  }
}

/**
 * The stage's command: sshd makes it the leader of a new session, so `$$` after `exec` is the
 * process group of everything the stage starts; it is written down so that cancel can stop it.
 */
function launchCommand(shell: ShellName, entry: string, pidFile: string): string {
  const body = quotePosix(`echo $$ > ${pidFile}; eval "$(cat)"`);
  return `export ${entry}; ` + (shell === "bash" ? `exec bash --norc --noprofile -c ${body}` : `exec sh -c ${body}`);
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15, PIPE: 13 };

/** The connection to the host is gone: a runner system failure, said plainly. */
function lost(where: string, error: Error): JobFailure {
  return new JobFailure(`ssh: the connection to ${where} was lost: ${error.message}`, {
    failureReason: "runner_system_failure", system: true, cause: error,
  });
}
