import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { JobResponse } from "../../protocol/types.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import type { BuildDirectories, Executor, StageCommand, StageOutput } from "../executor.ts";
import { localFiles } from "../local-files.ts";
import { parseConfigOutput, startupLine } from "./config-output.ts";
import type { CustomSettings } from "./custom-config.ts";
import { BUILD_FAILURE_EXIT_CODE, callDriver, driverFailure, SYSTEM_FAILURE_EXIT_CODE, type DriverCall } from "./driver-process.ts";

export interface CustomExecutorOptions {
  readonly settings: CustomSettings;
  readonly payload: JobResponse;
  /** `[[runners]] builds_dir`, unless config_exec names another. */
  readonly buildsDir?: string;
  readonly shell?: string;
  /** The job's directory below the builds directory. */
  readonly relative: string;
  /** The runner's own environment: every driver call sees it, as GitLab Runner passes its own on. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
}

/**
 * GitLab Runner's custom executor (docs/executors/custom.md): the runner's stage scripts are run by
 * executables of the user's (a "driver") — config_exec, prepare_exec, run_exec once per stage with
 * the script's path and the stage's name, cleanup_exec — each in a process group of its own, with
 * the job's variables as `CUSTOM_ENV_*`. The build directory must be reachable on this machine
 * (the runner moves artifacts, caches and the working-tree copy through it).
 */
export function createCustomExecutor(options: CustomExecutorOptions): Executor {
  return new CustomExecutor(options);
}

class CustomExecutor implements Executor {
  readonly name = "custom";
  /** Said once config_exec has named the driver (custom.go logStartupMessage). */
  readonly description = "";
  readonly environment = "shared";
  readonly local = false;
  readonly files = localFiles;
  shell: ShellName;
  readonly #options: CustomExecutorOptions;
  #tempDir: string | undefined;
  #directories: BuildDirectories | undefined;
  #jobEnv: Record<string, string> = {};
  /** The job's variables as the last stage saw them (`KEY=value`), for the driver's `CUSTOM_ENV_*`. */
  #variables: readonly string[];
  #scripts = 0;

  constructor(options: CustomExecutorOptions) {
    this.#options = options;
    this.shell = options.shell === "sh" ? "sh" : "bash";
    this.#variables = options.payload.variables.map((v) => `${v.key}=${v.value}`);
  }

  describeExit(code: number): string {
    return `exit status ${code}`;
  }

  get directories(): BuildDirectories {
    if (!this.#directories) throw new Error("The custom executor is not prepared yet");
    return this.#directories;
  }

  async prepare({ signal, log = () => {} }: { signal: AbortSignal; log?: (line: string) => void }): Promise<void> {
    const tempDir = (this.#tempDir = await mkdtemp(join(tmpdir(), "custom-executor")));
    await writeFile(join(tempDir, "response.json"), `${JSON.stringify(this.#options.payload)}\n`, { mode: 0o600 });
    const output = await this.#configure(signal, log);
    log(startupLine(output.driver));
    const buildsDir = output.builds_dir ?? this.#options.buildsDir;
    if (!buildsDir) throw new JobFailure("the builds_dir is not configured: set it in [[runners]], or have config_exec print it", { failureReason: "configuration_error" });
    const projectDir = join(resolve(buildsDir), this.#options.relative);
    this.#directories = { buildsDir: resolve(buildsDir), projectDir, tmpDir: `${projectDir}.tmp` };
    await mkdir(this.#directories.buildsDir, { recursive: true });
    const prepare = this.#options.settings.prepare;
    if (!prepare) return;
    const lines = lineWriter(log);
    const code = await callDriver(this.#call("prepare_exec", prepare, { stdout: lines, stderr: lines, signal, timeoutMs: prepare.timeoutMs }));
    const failure = driverFailure("prepare_exec", code);
    if (failure) throw failure;
  }

  async run(command: StageCommand, output: StageOutput): Promise<{ exitCode: number }> {
    const tempDir = this.#tempDir;
    if (!tempDir) throw new Error("The custom executor is not prepared yet");
    if (command.environment) this.#variables = command.environment;
    const dir = join(tempDir, `script${++this.#scripts}`);
    await mkdir(dir, { mode: 0o700 });
    const script = join(dir, "script.sh");
    await writeFile(script, command.script, { mode: 0o700 });
    try {
      // GitLab Runner still names step_script build_script for drivers (custom.go Run).
      const stage = command.stage === "step_script" ? "build_script" : command.stage;
      const code = await callDriver(this.#call("run_exec", this.#options.settings.run, {
        extraArgs: [script, stage], stdout: (c) => output.stdout.write(c), stderr: (c) => output.stderr.write(c), signal: command.signal,
      }));
      if (code === 0 || code === BUILD_FAILURE_EXIT_CODE || command.signal.aborted) return { exitCode: code };
      throw driverFailure("run_exec", code)!;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async cleanup(outcome?: { readonly failed: boolean; readonly log: (line: string) => void }): Promise<void> {
    const tempDir = this.#tempDir;
    if (!tempDir) return;
    const cleanup = this.#options.settings.cleanup;
    try {
      if (cleanup) {
        const stderr: string[] = [];
        const code = await callDriver(this.#call("cleanup_exec", cleanup, {
          stdout: () => {}, stderr: (c) => stderr.push(new TextDecoder().decode(c)), signal: new AbortController().signal, timeoutMs: cleanup.timeoutMs,
        })).catch((error: unknown) => (outcome?.log(`WARNING: Cleanup script failed: ${(error as Error).message}`), 0));
        // Its result never changes the job's (custom.go Cleanup).
        if (code !== 0) outcome?.log(`WARNING: Cleanup script failed: exit status ${code}${stderr.length ? `: ${stderr.join("").trim()}` : ""}`);
      }
    } finally {
      await rm(tempDir, { recursive: true, force: true });
      this.#tempDir = undefined;
    }
  }

  /** config_exec: its stdout is the JSON that sets the builds directory, the driver's name, `job_env`, the shell. */
  async #configure(signal: AbortSignal, log: (line: string) => void): Promise<ReturnType<typeof parseConfigOutput>> {
    const config = this.#options.settings.config;
    if (!config) return {};
    const stdout: Uint8Array[] = [];
    const code = await callDriver(this.#call("config_exec", config, { stdout: (c) => stdout.push(c), stderr: lineWriter(log), signal, timeoutMs: config.timeoutMs }));
    const failure = driverFailure("config_exec", code);
    if (failure) throw failure;
    const output = parseConfigOutput(Buffer.concat(stdout).toString("utf8"));
    this.#jobEnv = output.job_env ?? {};
    if (output.shell) this.shell = output.shell === "sh" ? "sh" : "bash";
    return output;
  }

  #call(role: string, executable: DriverCall["executable"], rest: Pick<DriverCall, "stdout" | "stderr" | "signal"> & Partial<DriverCall>): DriverCall {
    const { settings } = this.#options;
    return {
      role, executable, cwd: this.#tempDir!, env: this.#environment(),
      gracefulKillMs: settings.gracefulKillMs, forceKillMs: settings.forceKillMs, ...rest,
    };
  }

  /**
   * What every driver call sees (custom.go prepareCommand, command.go New): the runner's own
   * environment, TMPDIR, the exit codes and the job response file, `job_env`, then each job
   * variable as `CUSTOM_ENV_<name>` and the services as `CUSTOM_ENV_CI_JOB_SERVICES`.
   */
  #environment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.#options.hostEnv)) if (value !== undefined) env[key] = value;
    Object.assign(env, {
      TMPDIR: this.#tempDir!, BUILD_FAILURE_EXIT_CODE: String(BUILD_FAILURE_EXIT_CODE), SYSTEM_FAILURE_EXIT_CODE: String(SYSTEM_FAILURE_EXIT_CODE),
      JOB_RESPONSE_FILE: join(this.#tempDir!, "response.json"),
    }, this.#jobEnv);
    for (const entry of this.#variables) {
      const eq = entry.indexOf("=");
      if (eq > 0) env[`CUSTOM_ENV_${entry.slice(0, eq)}`] = entry.slice(eq + 1);
    }
    env.CUSTOM_ENV_CI_JOB_SERVICES = servicesJson(this.#options.payload);
    return env;
  }
}

/** `CI_JOB_SERVICES` as GitLab Runner serialises it (custom.go getCIJobServicesEnv): empty without services. */
function servicesJson(payload: JobResponse): string {
  const services = payload.services ?? [];
  if (services.length === 0) return "";
  return JSON.stringify(services.map((s) => ({
    name: s.name, alias: (s.alias ?? "").split(/[\s,]+/).find(Boolean) ?? "", entrypoint: s.entrypoint ?? null, command: s.command ?? null,
  })));
}

/** Output as trace lines through `log`, a partial last line held until it ends. */
function lineWriter(log: (line: string) => void): (chunk: Uint8Array) => void {
  let held = "";
  const decoder = new TextDecoder();
  return (chunk) => {
    held += decoder.decode(chunk, { stream: true });
    const lines = held.split("\n");
    held = lines.pop() ?? "";
    for (const line of lines) log(line);
  };
}
