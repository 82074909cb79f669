import type { Image } from "../../protocol/types.ts";
import type { DockerApi } from "./docker-api.ts";
import type { ContainerImage, ServiceImage } from "./container-spec.ts";
import { ensureImage } from "./images.ts";
import type { RegistryAuth } from "./registry-auth.ts";

/**
 * The names a service is reached by: its `alias` list (comma or space separated) and the two
 * GitLab derives from the image name without its tag (`tutum/wordpress:1` gives `tutum-wordpress`
 * and `tutum__wordpress`).
 */
export function serviceAliases(image: string, alias?: string): string[] {
  const bare = image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
  const given = (alias ?? "").split(/[\s,]+/).filter(Boolean);
  return [...new Set([...given, bare.replaceAll("/", "-"), bare.replaceAll("/", "__")])];
}

/** A job's `services:` as the executor runs them. */
export function serviceImages(services: readonly Image[] | null | undefined, pullPolicies: ContainerImage["pullPolicies"]): ServiceImage[] {
  return (services ?? []).map((s) => ({
    name: s.name, pullPolicies: s.pull_policy?.length ? s.pull_policy : pullPolicies,
    aliases: serviceAliases(s.name, s.alias),
    ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
    ...(s.command ? { command: s.command } : {}),
    ...(s.variables ? { variables: s.variables.map((v) => `${v.key}=${v.value}`) } : {}),
    ...(s.ports?.length ? { ports: s.ports.map((p) => p.number) } : {}),
  }));
}

/** A started service: its container, what it is called, and the ports it should open. */
interface StartedService {
  readonly id: string;
  readonly service: ServiceImage;
  readonly ports: number[];
}

/**
 * Starts the services on the job's network, each with its aliases, command, entrypoint and the
 * job's variables (then its own), and waits until the ports they expose accept connections. A
 * service that does not is named, with its log, and the job goes on (as GitLab Runner does).
 */
export async function startServices(options: {
  api: DockerApi; services: readonly ServiceImage[]; network: string; prefix: string; labels: Record<string, string>;
  jobVariables: readonly string[]; waitSeconds: number; log: (line: string) => void;
  auth: (image: string) => RegistryAuth | undefined;
  /** HostConfig the services share with the job's containers (ulimits). */
  hostConfig?: Record<string, unknown>;
}): Promise<void> {
  const { api, network } = options;
  const started = await Promise.all(options.services.map(async (service, index): Promise<StartedService> => {
    options.log(`Starting service ${service.name} ...`);
    const image = await ensureImage(api, service.name, service.pullPolicies, () => {}, options.auth(service.name));
    const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", {
      query: { name: `${options.prefix}-service-${index}` },
      body: {
        Image: service.name, Labels: { ...options.labels, "dev.runner.role": "service" },
        Env: [...options.jobVariables, ...(service.variables ?? [])],
        ...(service.command ? { Cmd: service.command } : {}),
        ...(service.entrypoint !== undefined ? { Entrypoint: service.entrypoint } : {}),
        HostConfig: { ...options.hostConfig, NetworkMode: network },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: service.aliases } } },
      },
    });
    await api.request("POST", `/containers/${Id}/start`);
    const exposed = Object.keys(image.Config?.ExposedPorts ?? {}).filter((p) => p.endsWith("/tcp")).map((p) => Number.parseInt(p, 10));
    return { id: Id, service, ports: [...new Set([...exposed, ...(service.ports ?? [])])] };
  }));
  await Promise.all(started.map(async (s) => {
    if (s.ports.length === 0) return;
    const ready = await waitForPorts(api, s, network, options.waitSeconds * 1000);
    if (ready) return;
    const logs = String(await api.request("GET", `/containers/${s.id}/logs`, { query: { stdout: true, stderr: true, tail: 100 } }).catch(() => ""));
    options.log(`*** WARNING: Service ${s.service.name} probably didn't start properly.`);
    options.log(`Health check error: no connection on port ${s.ports.join(", ")} after ${options.waitSeconds}s`);
    options.log(`Service container logs:\n${stripFrames(logs)}`);
    options.log("*********");
  }));
}

async function waitForPorts(api: DockerApi, s: StartedService, network: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  const info = await api.request<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>("GET", `/containers/${s.id}/json`);
  const address = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!address) return false;
  for (const port of s.ports) {
    while (!(await accepts(address, port))) {
      if (performance.now() > deadline) return false;
      await Bun.sleep(50);
    }
  }
  return true;
}

async function accepts(host: string, port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 500 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

/** Container logs of a non-TTY container come in 8-byte-headed frames; the text without them. */
function stripFrames(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/[\x00-\x02]\x00\x00\x00[\s\S]{4}/g, "").trimEnd();
}
