import { posix } from "node:path";
import { quotePosix } from "../../shell/quote.ts";
import { remoteProcessGroup, stopProcessGroup } from "../../shell/process-group.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { BuildFiles } from "../build-files.ts";
import type { BuildDirectories, Executor, JobExecutorOptions, StageCommand, StageOutput } from "../executor.ts";
import type { DockerApi } from "./docker-api.ts";
import { ensureImage } from "./images.ts";
import type { RegistryAuth } from "./registry-auth.ts";
import type { RemoteFiles } from "../file-service/file-client.ts";
import { runnerTools, serveCommand, type RunnerTools } from "./runner-tools.ts";
import { fileServiceSource, volumeFiles } from "./volume-files.ts";
import { startServices } from "./services.ts";
import { STAGE_DIR } from "./stage-server.ts";
import { labelsFor, removeLabelled, type Ownership } from "./labels.ts";
import { greetingOf, ulimits, writeText, type RunningContainer } from "./container-parts.ts";
import { BUILDS, isRoot, startJobContainer, stoppedWithin } from "./job-containers.ts";
import type { ContainerImage, DockerSettings, ServiceImage } from "./container-spec.ts";

export { parseBytes } from "./container-parts.ts";
export type { ContainerImage, DockerSettings, ServiceImage } from "./container-spec.ts";

export interface DockerExecutorOptions {
  readonly api: DockerApi;
  readonly image: ContainerImage;
  readonly helperImage: ContainerImage;
  /** When the helper image is not there (this runner's default one), run the runner's stages in the build container. */
  readonly helperFallback?: boolean;
  /**
   * No stage needs the helper image's git (the sources are copied in): when this runner's binary
   * runs on the engine, the runner's stages run in the build container, one container per job
   * (bench/docker.ts: a second container start costs ~150-300 ms on two cores).
   */
  readonly helperOptional?: boolean;
  readonly settings: DockerSettings;
  /** The project's path below `/builds`, e.g. `acme/widget`. */
  readonly projectPath: string;
  /** Who made the job's containers, for labels and for removing leftovers. */
  readonly owner: Ownership;
  /** How long a stage's processes have after TERM before KILL (default 5000 ms). */
  readonly graceMs?: number;
  /** A build volume kept from job to job (GIT_STRATEGY fetch); by default each job has one of its own, removed at the end. */
  readonly keptVolume?: string;
  /** The credentials to pull an image with, if any (`DOCKER_AUTH_CONFIG`, the job's registry credentials). */
  readonly registryAuth?: (image: string) => RegistryAuth | undefined;
  /** The job's services (`services:`). */
  readonly services?: readonly ServiceImage[];
  /** The job's variables as `KEY=value`, which services see as GitLab's do. */
  readonly jobVariables?: readonly string[];
  /** How long services have to open their ports (`wait_for_services_timeout`, default 30 s). */
  readonly waitForServicesSeconds?: number;
  /** The runner binary that serves the job's files inside its helper container (default: this one). */
  readonly tools?: () => RunnerTools;
}

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
  return new DockerExecutor(options);
}

class DockerExecutor implements Executor {
  readonly name = "docker";
  readonly environment = "disposable";
  readonly local = false;
  readonly directories: BuildDirectories;
  shell: ShellName = "bash";
  readonly #options: DockerExecutorOptions;
  readonly #labels: Record<string, string>;
  readonly #prefix: string;
  #files: RemoteFiles | undefined;
  /** The build and helper containers with their stage servers (the same one when there is no helper). */
  #build: RunningContainer | undefined;
  #helper: RunningContainer | undefined;
  #job: JobExecutorOptions = {};

  constructor(options: DockerExecutorOptions) {
    this.#options = options;
    this.#labels = labelsFor(options.owner);
    this.#prefix = `runner-${options.owner.job}`;
    const projectDir = posix.join(BUILDS, options.projectPath);
    this.directories = { buildsDir: BUILDS, projectDir, tmpDir: `${projectDir}.tmp` };
  }

  get description(): string {
    return `Using Docker executor with image ${this.#options.image.name} ...`;
  }

  describeExit(code: number): string {
    return `exit code ${code}`;
  }

  get files(): BuildFiles {
    if (!this.#files) throw new Error("The Docker executor is not prepared yet");
    return this.#files;
  }

  async prepare({ log = () => {}, job = {} }: { signal: AbortSignal; log?: (line: string) => void; job?: JobExecutorOptions }): Promise<void> {
    this.#job = job;
    if (job.umask0000 === false) log("Not using umask - FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is set!");
    const { api, owner } = this.#options;
    const sourceOf = fileServiceSource(api, this.#options.tools ?? (() => runnerTools()));
    // Three independent questions to the engine at once (each a round trip of 3-13 ms): what an
    // earlier attempt of this job left, which platform it runs, whether the images are there.
    const [, source, separateHelper] = await Promise.all([
      removeLabelled(api, { "dev.runner.job": owner.job }),
      sourceOf,
      this.#ensureImages(log, sourceOf.then((source) => this.#options.helperOptional === true && "tools" in source)),
    ]);
    const volume = await this.#makeVolumes();
    const network = await this.#makeNetwork();
    if (network && (this.#options.services ?? []).length > 0) await this.#startServices(network, log);
    const tools = "tools" in source ? { volume: source.tools.volume, serve: serveCommand(source.tools) } : undefined;
    const plan = { labels: this.#labels, settings: this.#options.settings, workingDir: this.directories.projectDir, volume, ...(network ? { network } : {}), ...(job.init ? { init: true } : {}) };
    const helperStarting = separateHelper
      // The helper starts in the volume's root: were both containers to make the project directory
      // at once, the engine's mkdir of one fails with "file exists" (moby's setupWorkingDirectory).
      // Its stages change to the project directory themselves.
      ? startJobContainer(api, { ...this.#options.helperImage, entrypoint: [""] }, { ...plan, workingDir: BUILDS, role: "helper", name: `${this.#prefix}-helper`, ...(tools ? { tools } : {}) })
      : undefined;
    const buildStarting = startJobContainer(api, this.#options.image, { ...plan, role: "build", name: `${this.#prefix}-build`, ...(!separateHelper && tools ? { tools } : {}) });
    // The files are reached as soon as the container that serves them runs, while the other starts:
    // on its own stream when its first process serves them as root, else through an exec.
    const files = (helperStarting ?? buildStarting).then(async (host) => {
      const greeting = await greetingOf(api, host);
      // `runner helper serve` as root has made the stage directory itself.
      const onStream = greeting.serves && greeting.user?.uid === 0 ? host.server.files("the file service of the job's container") : undefined;
      return { files: onStream ?? await volumeFiles(api, { id: host.id, image: separateHelper ? this.#options.helperImage.name : this.#options.image.name }, source, this.#labels, log), stageDirMade: onStream !== undefined };
    });
    files.catch(() => {});
    const started = await Promise.allSettled([helperStarting, buildStarting]);
    const [helperStart, buildStart] = started;
    if (helperStart.status === "rejected" || buildStart.status === "rejected") {
      // One of the two started (the helper, say, when the build image is for another platform):
      // its attach stream would keep this process alive and the container running.
      for (const s of started) if (s.status === "fulfilled") s.value?.server.close();
      await removeLabelled(api, { "dev.runner.job": owner.job }).catch(() => {});
      throw helperStart.status === "rejected" ? helperStart.reason : (buildStart as PromiseRejectedResult).reason;
    }
    const [helper, build] = [helperStart.value, buildStart.value];
    this.#build = build;
    this.#helper = helper ?? build;
    const greetings = await Promise.all([...new Set([this.#helper, build])].map(async (c) => {
      const greeting = await greetingOf(api, c);
      if (greeting.user) c.user = greeting.user;
      return greeting;
    }));
    this.shell = greetings.every((g) => g.shell === "bash") ? "bash" : "sh";
    const served = await files;
    this.#files = served.files;
    if (!served.stageDirMade) await this.#prepareStageDir(served.files);
    // Between stages the attach streams hold nothing up: a process whose job is kept may end.
    for (const c of new Set([this.#helper, build])) c.server.idle();
  }

  async run(command: StageCommand, output: StageOutput): Promise<{ exitCode: number }> {
    const container = command.predefined ? this.#helper : this.#build;
    const files = this.#files;
    if (!container || !files) throw new Error("The Docker executor is not prepared yet");
    const id = crypto.randomUUID().replaceAll("-", "");
    const text = this.#job.umask0000 === false ? command.script : `umask 0000\n${command.script}`;
    const script = `${STAGE_DIR}/${id}.sh`;
    const pidFile = `${STAGE_DIR}/${id}.pid`;
    // `runner helper serve` writes the script (and the stage's pid) itself, as the stage's user.
    const inline = container.server.writesScripts;
    if (!inline) {
      // Readable by the stage's user only: the script holds the job's variables, file ones included.
      // `umask 0000` first, as GitLab Runner's: what one container's user makes, the other's can change.
      await writeText(files, script, text, container.user);
      // The server writes the stage's pid as the stage's user, who may not own the directory.
      await writeText(files, pidFile, "", container.user);
    }
    // The stage leads a process group of its own (the server starts it with setsid); its pid,
    // written down by the server, lets cancel stop every process the stage started.
    const group = remoteProcessGroup((cmd) => this.#control(container.id, cmd), pidFile);
    let stopping: Promise<void> | undefined;
    const onAbort = () => void (stopping ??= stopProcessGroup(group, { graceMs: this.#options.graceMs ?? 5000, pollMs: 100 }));
    command.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const exitCode = await container.server.run(id, output, inline ? text : undefined).catch((error: unknown) => {
        throw new JobFailure(`docker: the stage could not run: ${error instanceof Error ? error.message : String(error)}`, {
          failureReason: "runner_system_failure", system: true, cause: error,
        });
      });
      await stopping;
      if (exitCode === 0 && this.#job.umask0000 === false) await this.#handOverProjectDir(command.stage, container);
      return { exitCode: command.signal.aborted && exitCode === 0 ? 137 : exitCode };
    } finally {
      command.signal.removeEventListener("abort", onAbort);
      if (!inline) await Promise.all([files.remove(script), files.remove(pidFile)]).catch(() => {});
    }
  }

  async cleanup(): Promise<void> {
    const { api } = this.#options;
    const containers = [...new Set([this.#build, this.#helper])].filter((c) => c !== undefined);
    this.#files?.close();
    // The stage servers are told to end, and the containers stop by themselves: removing a stopped
    // container costs the engine 25-160 ms, a running one (killed first) 134-192 ms.
    for (const c of containers) c.server.shutdown();
    this.#build = this.#helper = undefined;
    await Promise.all(containers.map((c) => stoppedWithin(api, c.id, 1000)));
    await removeLabelled(api, { "dev.runner.job": this.#options.owner.job }).catch(() => {});
  }

  /**
   * The job's image, and the helper's unless it is the same or `optional` and the job's image runs as
   * root (the runner's stages remove what root made, as in GitLab Runner's helper); false when the
   * runner's stages run in the build container.
   */
  async #ensureImages(log: (line: string) => void, optional: Promise<boolean>): Promise<boolean> {
    const { api, image, helperImage, settings } = this.#options;
    const auth = (name: string) => this.#options.registryAuth?.(name);
    const facts = await ensureImage(api, image.name, image.pullPolicies, log, auth(image.name), image.platform);
    if (helperImage.name === image.name) return false;
    if ((await optional) && isRoot(image.user ?? settings.user ?? facts.Config?.User ?? "")) return false;
    try {
      await ensureImage(api, helperImage.name, helperImage.pullPolicies, () => {}, auth(helperImage.name));
      return true;
    } catch (error) {
      if (!this.#options.helperFallback) throw error;
      log(`The helper image ${helperImage.name} is not there: the runner's stages run in the job's image`);
      return false;
    }
  }

  /** The build volume (the job's own, or the kept one) and the `/cache` volume. */
  async #makeVolumes(): Promise<string> {
    const { api, owner, keptVolume, settings } = this.#options;
    const kept = { "dev.runner.managed": "true", "dev.runner.owner": owner.runner };
    const volume = keptVolume ?? `${this.#prefix}-builds`;
    await api.request("POST", "/volumes/create", { body: { Name: volume, Labels: keptVolume ? kept : this.#labels } });
    // Kept from job to job: labelled as this runner's, with no pid (it is never a leftover).
    if (settings.cacheVolume && "volume" in settings.cacheVolume) {
      await api.request("POST", "/volumes/create", { body: { Name: settings.cacheVolume.volume, Labels: kept } });
    }
    return volume;
  }

  /**
   * Stage scripts go here under random names: others may enter the directory, not list it. A kept
   * volume may still hold the scripts of a run that was killed (file variables in them).
   */
  async #prepareStageDir(files: BuildFiles): Promise<void> {
    await files.remove(STAGE_DIR);
    await files.mkdir(STAGE_DIR);
    await files.setModeAndTime(STAGE_DIR, 0o711, Date.now());
  }

  /**
   * A network of the job's own only when services need one (or FF_NETWORK_PER_BUILD): joining a
   * new network makes a container start take half as long again.
   */
  async #makeNetwork(): Promise<string | undefined> {
    const services = this.#options.services ?? [];
    if (this.#options.settings.networkMode || (services.length === 0 && !this.#job.networkPerBuild)) return undefined;
    const network = `${this.#prefix}-network`;
    await this.#options.api.request("POST", "/networks/create", { body: { Name: network, CheckDuplicate: true, Labels: this.#labels } });
    return network;
  }

  async #startServices(network: string, log: (line: string) => void): Promise<void> {
    const { api, settings } = this.#options;
    await startServices({
      api, services: this.#options.services ?? [], network, prefix: this.#prefix, labels: this.#labels,
      jobVariables: this.#options.jobVariables ?? [], waitSeconds: this.#options.waitForServicesSeconds ?? 30, log,
      auth: (name) => this.#options.registryAuth?.(name),
      hostConfig: { ...settings.servicesHostConfig, ...(settings.ulimits ? { Ulimits: ulimits(settings.ulimits) } : {}) },
    });
  }

  /** A small command of the runner's own in a container; its exit code (-1 when it could not run). */
  #control(container: string, script: string): Promise<number> {
    return this.#options.api.exec(container, { cmd: ["sh", "-c", script], stdout: () => {}, stderr: () => {} }).catch(() => -1);
  }

  /**
   * Without `umask 0000` (FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR), what the helper's stages put in the
   * project directory is handed to the build container's user, as GitLab Runner does after
   * get_sources, restore_cache and download_artifacts.
   */
  async #handOverProjectDir(stage: string, ran: RunningContainer): Promise<void> {
    const helper = this.#helper;
    const build = this.#build;
    if (ran !== helper || helper === build || !build?.user || !HANDED_OVER_AFTER.has(stage)) return;
    if (helper.user && helper.user.uid === build.user.uid && helper.user.gid === build.user.gid) return;
    await this.#control(helper.id, `chown -R ${build.user.uid}:${build.user.gid} ${quotePosix(this.directories.projectDir)}`);
  }
}
