import { posix } from "node:path";
import type { PullPolicy } from "../../protocol/types.ts";
import { quotePosix } from "../../shell/quote.ts";
import { stopGroupScript } from "../../shell/remote-stop.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { BuildFiles } from "../build-files.ts";
import type { BuildDirectories, Executor, JobExecutorOptions, StageCommand, StageOutput } from "../executor.ts";
import { DockerApi } from "./docker-api.ts";
import { ensureImage } from "./images.ts";
import type { RegistryAuth } from "./registry-auth.ts";
import { mountedFiles } from "./mounted-files.ts";
import { startServices } from "./services.ts";
import { SERVER_COMMAND, STAGE_DIR, StageServer } from "./stage-server.ts";
import { labelsFor, removeLabelled, type Ownership } from "./labels.ts";
import type { IsolationHostConfig } from "./host-config.ts";
import { cacheBind, greetingOf, parseBytes, ulimits, writeText, type RunningContainer } from "./container-parts.ts";

export { parseBytes } from "./container-parts.ts";

export type { ContainerImage, DockerSettings, ServiceImage } from "./container-spec.ts";
import type { ContainerImage, DockerSettings, ServiceImage } from "./container-spec.ts";

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
  /** The credentials to pull an image with, if any (`DOCKER_AUTH_CONFIG`, the job's registry credentials). */
  readonly registryAuth?: (image: string) => RegistryAuth | undefined;
  /**
   * `runner exec --shell-on-failure`: called when a script stage of the user fails, with where to
   * open an interactive shell (the build container, the job's directory and variables); the job
   * goes on when it returns.
   */
  readonly shellOnFailure?: (at: { container: string; workingDir: string; environment: readonly string[]; shell: ShellName }) => Promise<void>;
  /** `runner exec --keep`: a failed job's containers stay, and the command to enter them is printed. */
  readonly keepOnFailure?: boolean;
  /** The job's services (`services:`). */
  readonly services?: readonly ServiceImage[];
  /** The job's variables as `KEY=value`, which services see as GitLab's do. */
  readonly jobVariables?: readonly string[];
  /** How long services have to open their ports (`wait_for_services_timeout`, default 30 s). */
  readonly waitForServicesSeconds?: number;
}

const BUILDS = "/builds";
const HANDED_OVER_AFTER = new Set(["get_sources", "restore_cache", "download_artifacts"]);

/**
 * Runs a job in containers through the Engine API: a build container from the job's image and a
 * helper container, both mounting the job's build volume. Each container runs a small stage server
 * (stage-server.ts) over its attach stream; every stage is a fresh shell process it starts, in a
 * process group of its own — the runner's own stages in the helper, the user's in the build
 * container. No container is made per stage and no exec per stage (an exec costs ~80 ms of engine
 * time, a fork next to nothing). Everything made carries the job's labels and is removed at the end,
 * whatever happened.
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
  /** The build and helper containers with their stage servers (the same one when there is no helper). */
  let build: RunningContainer | undefined;
  let helper: RunningContainer | undefined;
  let job: JobExecutorOptions = {};

  const createContainer = async (role: "build" | "helper", image: ContainerImage, volume: string, network?: string) => {
    const s = options.settings;
    const body = {
      Image: image.name, Cmd: SERVER_COMMAND, OpenStdin: true, StdinOnce: false, AttachStdin: true, AttachStdout: true, AttachStderr: true,
      Labels: { ...labels, "dev.runner.role": role },
      ...(image.entrypoint !== undefined ? { Entrypoint: image.entrypoint } : {}),
      ...(image.user ?? s.user ? { User: image.user ?? s.user } : {}),
      WorkingDir: projectDir,
      HostConfig: {
        ...s.hostConfig,
        ...(job.init ? { Init: true } : {}),
        Binds: [`${volume}:${BUILDS}`, ...cacheBind(s.cacheVolume), ...(s.volumes ?? []).filter((v) => v.includes(":"))],
        Privileged: role === "build" && (s.privileged ?? false),
        ...(s.networkMode ? { NetworkMode: s.networkMode } : network ? { NetworkMode: network } : {}),
        ...(s.extraHosts ? { ExtraHosts: s.extraHosts } : {}),
        ...(s.memory ? { Memory: parseBytes(s.memory) } : {}),
        ...(s.cpus ? { NanoCpus: Math.round(Number(s.cpus) * 1e9) } : {}),
        ...(s.shmSize ? { ShmSize: s.shmSize } : {}),
        ...(s.tmpfs ? { Tmpfs: s.tmpfs } : {}),
        ...(s.ulimits ? { Ulimits: ulimits(s.ulimits) } : {}),
      },
      Volumes: Object.fromEntries((s.volumes ?? []).filter((v) => !v.includes(":")).map((v) => [v, {}])),
    };
    const query = { name: `${prefix}-${role}`, ...(image.platform ? { platform: image.platform } : {}) };
    const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", { query, body });
    const server = new StageServer(await api.attach(Id));
    await api.request("POST", `/containers/${Id}/start`);
    return { id: Id, server };
  };

  const control = (container: string, script: string) =>
    api.exec(container, { cmd: ["sh", "-c", script], stdout: () => {}, stderr: () => {} }).catch(() => -1);

  /**
   * Without `umask 0000` (FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR), what the helper's stages put in the
   * project directory is handed to the build container's user, as GitLab Runner does after
   * get_sources, restore_cache and download_artifacts.
   */
  const handOverProjectDir = async (stage: string, ran: RunningContainer) => {
    if (ran !== helper || helper === build || !build?.user || !HANDED_OVER_AFTER.has(stage)) return;
    if (helper.user && helper.user.uid === build.user.uid && helper.user.gid === build.user.gid) return;
    await control(helper.id, `chown -R ${build.user.uid}:${build.user.gid} ${quotePosix(projectDir)}`);
  };

  return {
    name: "docker",
    get shell() {
      return shell;
    },
    get description() {
      return `Using Docker executor with image ${options.image.name} ...`;
    },
    describeExit: (code) => `exit code ${code}`,
    environment: "disposable",
    local: false,
    directories,
    get files(): BuildFiles {
      if (!files) throw new Error("The Docker executor is not prepared yet");
      return files;
    },
    async prepare({ log = () => {}, job: asked = {} }) {
      job = asked;
      if (job.umask0000 === false) log("Not using umask - FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is set!");
      await removeLabelled(api, { "dev.runner.job": options.owner.job });
      const auth = (image: string) => options.registryAuth?.(image);
      await ensureImage(api, options.image.name, options.image.pullPolicies, log, auth(options.image.name), options.image.platform);
      let separateHelper = options.helperImage.name !== options.image.name;
      if (separateHelper) {
        try {
          await ensureImage(api, options.helperImage.name, options.helperImage.pullPolicies, () => {}, auth(options.helperImage.name));
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
      const cache = options.settings.cacheVolume;
      if (cache && "volume" in cache) {
        // Kept from job to job: labelled as this runner's, with no pid (it is never a leftover).
        await api.request("POST", "/volumes/create", {
          body: { Name: cache.volume, Labels: { "dev.runner.managed": "true", "dev.runner.owner": options.owner.runner } },
        });
      }
      // Stage scripts go here under random names: others may enter the directory, not list it. A
      // kept volume may still hold the scripts of a run that was killed (file variables in them).
      await files.remove(STAGE_DIR);
      await files.mkdir(STAGE_DIR);
      await files.setModeAndTime(STAGE_DIR, 0o711, Date.now());
      // A network of the job's own only when services need one: joining a new network makes a
      // container start take half as long again.
      let network: string | undefined;
      const services = options.services ?? [];
      if (!options.settings.networkMode && (services.length > 0 || job.networkPerBuild)) {
        network = `${prefix}-network`;
        await api.request("POST", "/networks/create", { body: { Name: network, CheckDuplicate: true, Labels: labels } });
      }
      if (network && services.length > 0) {
        await startServices({
          api, services, network, prefix, labels, jobVariables: options.jobVariables ?? [],
          waitSeconds: options.waitForServicesSeconds ?? 30, log, auth,
          hostConfig: {
            ...options.settings.servicesHostConfig,
            ...(options.settings.ulimits ? { Ulimits: ulimits(options.settings.ulimits) } : {}),
          },
        });
      }
      [helper, build] = await Promise.all([
        separateHelper ? createContainer("helper", { ...options.helperImage, entrypoint: [""] }, volume, network) : undefined,
        createContainer("build", options.image, volume, network),
      ]);
      helper ??= build;
      const greetings = await Promise.all([...new Set([helper, build])].map(async (c) => {
        const greeting = await greetingOf(api, c);
        if (greeting.user) c.user = greeting.user;
        return greeting;
      }));
      shell = greetings.every((g) => g.shell === "bash") ? "bash" : "sh";
    },
    async run(command: StageCommand, output: StageOutput) {
      const container = command.predefined ? helper : build;
      if (!container || !files) throw new Error("The Docker executor is not prepared yet");
      const id = crypto.randomUUID().replaceAll("-", "");
      const script = `${STAGE_DIR}/${id}.sh`;
      const pidFile = `${STAGE_DIR}/${id}.pid`;
      // Readable by the stage's user only: the script holds the job's variables, file ones included.
      // `umask 0000` first, as GitLab Runner's: what one container's user makes, the other's can change.
      await writeText(files, script, job.umask0000 === false ? command.script : `umask 0000\n${command.script}`, container.user);
      // The stage leads a process group of its own (the server starts it with setsid); its pid,
      // written down by the server, lets cancel stop every process the stage started.
      const stopGroup = () => control(container.id, stopGroupScript({ pidFile, graceMs }));
      let stopping: Promise<number> | undefined;
      const onAbort = () => void (stopping ??= stopGroup());
      command.signal.addEventListener("abort", onAbort, { once: true });
      try {
        const exitCode = await container.server.run(id, output).catch((error: unknown) => {
          throw new JobFailure(`docker: the stage could not run: ${error instanceof Error ? error.message : String(error)}`, {
            failureReason: "runner_system_failure", system: true, cause: error,
          });
        });
        await stopping;
        if (exitCode === 0 && job.umask0000 === false) await handOverProjectDir(command.stage, container);
        if (exitCode !== 0 && !command.signal.aborted && command.stage.startsWith("step_") && options.shellOnFailure) {
          await options.shellOnFailure({ container: container.id, workingDir: projectDir, environment: command.environment ?? [], shell });
        }
        return { exitCode: command.signal.aborted && exitCode === 0 ? 137 : exitCode };
      } finally {
        command.signal.removeEventListener("abort", onAbort);
        await Promise.all([files.remove(script), files.remove(pidFile)]).catch(() => {});
      }
    },
    async cleanup(outcome) {
      // Without StdinOnce the containers outlive their attach streams (that --keep relies on).
      build?.server.close();
      helper?.server.close();
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
