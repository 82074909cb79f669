import type { DockerApi } from "./docker-api.ts";
import type { ContainerImage, DockerSettings } from "./container-spec.ts";
import { cacheBind, parseBytes, ulimits, type RunningContainer } from "./container-parts.ts";
import { serverCommand, StageServer } from "./stage-server.ts";
import { TOOLS_DIR } from "./runner-tools.ts";

/** Where the job's build volume is mounted in its containers. */
export const BUILDS = "/builds";

/** What a job container is made of, besides its image. */
export interface ContainerPlan {
  readonly role: "build" | "helper";
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly settings: DockerSettings;
  readonly workingDir: string;
  readonly volume: string;
  readonly network?: string;
  /** `--init` (FF_USE_INIT_WITH_DOCKER_EXECUTOR). */
  readonly init?: boolean;
  /** The runner's tools volume, mounted read-only where the job's files are served from, and the command that serves them from it. */
  readonly tools?: { readonly volume: string; readonly serve: { readonly complete: string; readonly command: string } };
}

/**
 * Creates and starts a job container that runs the stage server (stage-server.ts) on its attach
 * stream — `runner helper serve` where the tools volume is mounted and complete — with `[runners.docker]`'s settings: binds, limits, network, privileges (the build
 * container only).
 */
export async function startJobContainer(api: DockerApi, image: ContainerImage, plan: ContainerPlan): Promise<RunningContainer> {
  const query = { name: plan.name, ...(image.platform ? { platform: image.platform } : {}) };
  const created = api.request<{ Id: string }>("POST", "/containers/create", { query, body: containerBody(image, plan) });
  api.preloadStreams();
  const { Id } = await created;
  const server = new StageServer(await api.attach(Id));
  // Two containers starting at once on a new volume both make the working directory in it, and the
  // engine's mkdir of the later one may fail with "file exists" (moby's setupWorkingDirectory): it is
  // there a moment later, so the start is tried again.
  for (let attempt = 1; ; attempt++) {
    const failed = await api.request("POST", `/containers/${Id}/start`).then(() => undefined, (error: Error) => error);
    if (!failed) break;
    if (!/file exists/.test(failed.message) || attempt === 3) throw failed;
    await Bun.sleep(50 * attempt);
  }
  return { id: Id, server };
}

function containerBody(image: ContainerImage, plan: ContainerPlan): Record<string, unknown> {
  const s = plan.settings;
  return {
    Image: image.name, Cmd: serverCommand(plan.tools?.serve), OpenStdin: true, StdinOnce: false, AttachStdin: true, AttachStdout: true, AttachStderr: true,
    Labels: { ...plan.labels, "dev.runner.role": plan.role },
    ...(image.entrypoint !== undefined ? { Entrypoint: image.entrypoint } : {}),
    ...(image.user ?? s.user ? { User: image.user ?? s.user } : {}),
    WorkingDir: plan.workingDir,
    HostConfig: {
      ...s.hostConfig,
      ...(plan.init ? { Init: true } : {}),
      Binds: [`${plan.volume}:${BUILDS}`, ...(plan.tools ? [`${plan.tools.volume}:${TOOLS_DIR}:ro`] : []), ...cacheBind(s.cacheVolume), ...(s.volumes ?? []).filter((v) => v.includes(":"))],
      Privileged: plan.role === "build" && (s.privileged ?? false),
      ...(s.networkMode ? { NetworkMode: s.networkMode } : plan.network ? { NetworkMode: plan.network } : {}),
      ...(s.extraHosts ? { ExtraHosts: s.extraHosts } : {}),
      ...(s.memory ? { Memory: parseBytes(s.memory) } : {}),
      ...(s.cpus ? { NanoCpus: Math.round(Number(s.cpus) * 1e9) } : {}),
      ...(s.shmSize ? { ShmSize: s.shmSize } : {}),
      ...(s.tmpfs ? { Tmpfs: s.tmpfs } : {}),
      ...(s.ulimits ? { Ulimits: ulimits(s.ulimits) } : {}),
    },
    Volumes: Object.fromEntries((s.volumes ?? []).filter((v) => !v.includes(":")).map((v) => [v, {}])),
  };
}

/** Waits until the container is not running, for at most `ms` (it is removed by force afterwards anyway). */
export async function stoppedWithin(api: DockerApi, id: string, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([api.request("POST", `/containers/${id}/wait`, { query: { condition: "not-running" } }).catch(() => {}), late]);
  clearTimeout(timer);
}

/** Whether a container `User` (name or uid, with or without its group) is root; empty means the image's default, root. */
export function isRoot(user: string): boolean {
  const name = user.split(":")[0]!;
  return name === "" || name === "root" || name === "0";
}
