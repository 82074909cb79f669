import { posix } from "node:path";
import type { PullPolicy } from "../../protocol/types.ts";
import { quotePosix } from "../../shell/quote.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { JobFailure } from "../../steps/job-failure.ts";
import type { BuildFiles } from "../build-files.ts";
import type { BuildDirectories, Executor, StageCommand, StageOutput } from "../executor.ts";
import { DockerApi } from "./docker-api.ts";
import { ensureImage } from "./images.ts";
import { mountedFiles } from "./mounted-files.ts";
import { startServices } from "./services.ts";
import { labelsFor, removeLabelled, type Ownership } from "./labels.ts";

/** The image a container runs, as the job or `[runners.docker]` names it. */
export interface ContainerImage {
  readonly name: string;
  /** `[""]` clears the image's entrypoint (as in Docker); undefined keeps it. */
  readonly entrypoint?: readonly string[];
  readonly pullPolicies: readonly PullPolicy[];
  readonly user?: string;
  readonly platform?: string;
}

/** `[runners.docker]` settings the containers are made with. */
export interface DockerSettings {
  readonly privileged?: boolean;
  /** `host:container[:mode]` binds and `/container` anonymous volumes. */
  readonly volumes?: readonly string[];
  readonly networkMode?: string;
  readonly extraHosts?: readonly string[];
  readonly memory?: string;
  readonly cpus?: string;
  readonly shmSize?: number;
  readonly tmpfs?: Readonly<Record<string, string>>;
  readonly user?: string;
}

export interface DockerExecutorOptions {
  readonly api: DockerApi;
  readonly image: ContainerImage;
  readonly helperImage: ContainerImage;
  /** When the helper image is not there (this runner's default one), run the runner's stages in the build container. */
  readonly helperFallback?: boolean;
  readonly settings: DockerSettings;
  /** The project's path below `/builds`, e.g. `acme/widget`. */
  readonly projectPath: string;
  /** Who made the job's containers, for labels and for removing leftovers. */
  readonly owner: Ownership;
  /** How long a stage's processes have after TERM before KILL (default 5000 ms). */
  readonly graceMs?: number;
  /**
   * A build volume kept from run to run (local runs: an unchanged working tree is then not copied
   * again); by default each job has a volume of its own, removed at the end.
   */
  readonly keptVolume?: string;
  /** `runner exec --keep`: a failed job's containers stay, and the command to enter them is printed. */
  readonly keepOnFailure?: boolean;
  /** The job's services (`services:`). */
  readonly services?: readonly ServiceImage[];
  /** The job's variables as `KEY=value`, which services see as GitLab's do. */
  readonly jobVariables?: readonly string[];
  /** How long services have to open their ports (`wait_for_services_timeout`, default 30 s). */
  readonly waitForServicesSeconds?: number;
}

/** A service container: its image and the names it is reached by. */
export interface ServiceImage extends ContainerImage {
  readonly aliases: readonly string[];
  readonly command?: readonly string[];
  readonly variables?: readonly string[];
  /** Ports to wait for besides those the image exposes (`services:ports`). */
  readonly ports?: readonly number[];
}

const BUILDS = "/builds";
/**
 * Keeps a container alive between stages (each stage is a fresh process made with exec); first it
 * says in its log whether the image has bash, which saves an exec (the costly call) per container.
 */
const KEEP_ALIVE = [
  "sh", "-c",
  "if command -v bash >/dev/null 2>&1; then echo runner-shell=bash; else echo runner-shell=sh; fi; " +
    "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done",
];

/**
 * Runs a job in containers through the Engine API: a build container from the job's image and a
 * helper container, both mounting the job's build volume. Every stage is a fresh shell process
 * (an exec), the runner's own stages in the helper, the user's in the build container. Everything
 * made carries the job's labels and is removed at the end, whatever happened.
 */
export function createDockerExecutor(options: DockerExecutorOptions): Executor {
  const { api } = options;
  const labels = labelsFor(options.owner);
  const prefix = `runner-${options.owner.job}`;
  const projectDir = posix.join(BUILDS, options.projectPath);
  const directories: BuildDirectories = { buildsDir: BUILDS, projectDir, tmpDir: `${projectDir}.tmp` };
  const graceMs = options.graceMs ?? 5000;
  let files: BuildFiles | undefined;
  let shell: ShellName = "bash";
  let build: string | undefined;
  let helper: string | undefined;

  const createContainer = async (role: "build" | "helper", image: ContainerImage, volume: string, network?: string) => {
    const s = options.settings;
    const body = {
      Image: image.name, Cmd: KEEP_ALIVE, Labels: { ...labels, "dev.runner.role": role },
      ...(image.entrypoint !== undefined ? { Entrypoint: image.entrypoint } : {}),
      ...(image.user ?? s.user ? { User: image.user ?? s.user } : {}),
      WorkingDir: projectDir,
      HostConfig: {
        Binds: [`${volume}:${BUILDS}`, ...(s.volumes ?? []).filter((v) => v.includes(":"))],
        Privileged: role === "build" && (s.privileged ?? false),
        ...(s.networkMode ? { NetworkMode: s.networkMode } : network ? { NetworkMode: network } : {}),
        ...(s.extraHosts ? { ExtraHosts: s.extraHosts } : {}),
        ...(s.memory ? { Memory: parseBytes(s.memory) } : {}),
        ...(s.cpus ? { NanoCpus: Math.round(Number(s.cpus) * 1e9) } : {}),
        ...(s.shmSize ? { ShmSize: s.shmSize } : {}),
        ...(s.tmpfs ? { Tmpfs: s.tmpfs } : {}),
      },
      Volumes: Object.fromEntries((s.volumes ?? []).filter((v) => !v.includes(":")).map((v) => [v, {}])),
    };
    const query = { name: `${prefix}-${role}`, ...(image.platform ? { platform: image.platform } : {}) };
    const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", { query, body });
    await api.request("POST", `/containers/${Id}/start`);
    return Id;
  };

  const control = (container: string, script: string) =>
    api.exec(container, { cmd: ["sh", "-c", script], stdout: () => {}, stderr: () => {} }).catch(() => -1);

  return {
    name: "docker",
    get shell() {
      return shell;
    },
    get description() {
      return `Using Docker executor with image ${options.image.name} ...`;
    },
    environment: "disposable",
    local: false,
    directories,
    get files(): BuildFiles {
      if (!files) throw new Error("The Docker executor is not prepared yet");
      return files;
    },
    async prepare({ log = () => {} }) {
      await removeLabelled(api, { "dev.runner.job": options.owner.job });
      await ensureImage(api, options.image.name, options.image.pullPolicies, log);
      let separateHelper = options.helperImage.name !== options.image.name;
      if (separateHelper) {
        try {
          await ensureImage(api, options.helperImage.name, options.helperImage.pullPolicies, () => {});
        } catch (error) {
          if (!options.helperFallback) throw error;
          log(`The helper image ${options.helperImage.name} is not there: the runner's stages run in the job's image`);
          separateHelper = false;
        }
      }
      const volume = options.keptVolume ?? `${prefix}-builds`;
      const volumeLabels = options.keptVolume ? { "dev.runner.managed": "true", "dev.runner.owner": options.owner.runner } : labels;
      const made = await api.request<{ Mountpoint: string }>("POST", "/volumes/create", { body: { Name: volume, Labels: volumeLabels } });
      files = mountedFiles(BUILDS, made.Mountpoint);
      // A network of the job's own only when services need one: joining a new network makes a
      // container start take half as long again.
      let network: string | undefined;
      if (!options.settings.networkMode && (options.services?.length ?? 0) > 0) {
        network = `${prefix}-network`;
        await api.request("POST", "/networks/create", { body: { Name: network, CheckDuplicate: true, Labels: labels } });
        await startServices({
          api, services: options.services!, network, prefix, labels, jobVariables: options.jobVariables ?? [],
          waitSeconds: options.waitForServicesSeconds ?? 30, log,
        });
      }
      [helper, build] = await Promise.all([
        separateHelper ? createContainer("helper", { ...options.helperImage, entrypoint: [""] }, volume, network) : undefined,
        createContainer("build", options.image, volume, network),
      ]);
      helper ??= build;
      const shells = await Promise.all([...new Set([helper!, build])].map((id) => shellOf(api, id)));
      shell = shells.every((s) => s === "bash") ? "bash" : "sh";
    },
    async run(command: StageCommand, output: StageOutput) {
      const container = command.predefined ? helper : build;
      if (!container) throw new Error("The Docker executor is not prepared yet");
      const pidFile = `/tmp/runner-stage-${crypto.randomUUID()}.pid`;
      // An exec's process leads a session and process group of its own: its pid, written down,
      // lets cancel stop every process the stage started, not just its shell.
      const launch = shell === "bash"
        ? `echo $$ > ${pidFile}; exec bash --norc --noprofile -c 'eval "$(cat)"'`
        : `echo $$ > ${pidFile}; exec sh -c 'eval "$(cat)"'`;
      const stopGroup = () =>
        control(container, `p=$(cat ${pidFile} 2>/dev/null) && { kill -TERM -- -$p 2>/dev/null; ` +
          `i=0; while kill -0 -- -$p 2>/dev/null && [ $i -lt ${Math.ceil(graceMs / 100)} ]; do sleep 0.1; i=$((i+1)); done; ` +
          `kill -KILL -- -$p 2>/dev/null; }; rm -f ${pidFile}`);
      let stopping: Promise<number> | undefined;
      const onAbort = () => void (stopping ??= stopGroup());
      command.signal.addEventListener("abort", onAbort, { once: true });
      try {
        const exitCode = await api.exec(container, {
          cmd: ["sh", "-c", launch], stdin: command.script,
          stdout: (chunk) => output.stdout.write(chunk), stderr: (chunk) => output.stderr.write(chunk),
        }).catch((error: unknown) => {
          throw new JobFailure(`docker: the stage could not run: ${error instanceof Error ? error.message : String(error)}`, {
            failureReason: "runner_system_failure", system: true, cause: error,
          });
        });
        await stopping;
        void control(container, `rm -f ${pidFile}`);
        return { exitCode: command.signal.aborted && exitCode === 0 ? 137 : exitCode };
      } finally {
        command.signal.removeEventListener("abort", onAbort);
      }
    },
    async cleanup(outcome) {
      if (outcome?.failed && options.keepOnFailure && build) {
        // Removed by the next run (their labels name this process, which will be gone by then).
        outcome.log(`The job's containers are kept for debugging (--keep); enter the build container with:`);
        outcome.log(`  docker exec -it -w ${projectDir} ${prefix}-build ${shell}`);
        return;
      }
      build = helper = undefined;
      await removeLabelled(api, { "dev.runner.job": options.owner.job }).catch(() => {});
    },
  };
}

/** The shell a container's keep-alive process found (it logs it first thing). */
async function shellOf(api: DockerApi, container: string): Promise<ShellName> {
  for (let i = 0; i < 400; i++) {
    const log = String(await api.request("GET", `/containers/${container}/logs`, { query: { stdout: true } }));
    const found = /runner-shell=(bash|sh)/.exec(log)?.[1];
    if (found) return found as ShellName;
    const { State } = await api.request<{ State: { Running: boolean; ExitCode: number } }>("GET", `/containers/${container}/json`);
    if (!State.Running) {
      throw new JobFailure(`docker: the container stopped at once (exit code ${State.ExitCode}); its image needs sh, and an entrypoint that runs the command it is given`, {
        failureReason: "runner_system_failure", system: true,
      });
    }
    await Bun.sleep(i < 50 ? 2 : 25);
  }
  return "sh";
}

/** Docker's memory strings (`512m`, `2g`, `1024`) in bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(text.trim());
  if (!match) throw new JobFailure(`[runners.docker] memory: ${quotePosix(text)} is not a size like 512m or 2g`, {
    failureReason: "runner_configuration_error", system: true,
  });
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2]!.toLowerCase() as "k"];
  return Math.round(Number(match[1]) * unit);
}
