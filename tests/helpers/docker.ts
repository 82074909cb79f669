import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real Docker engine for the tests (Debian's docker.io, started here when it is not running)
 * and the images they use, built offline and cached: `local/busybox:latest` and
 * `local/debian:bookworm` (git and bash, made with debootstrap from the machine's own mirror).
 */
export const BUSYBOX = "local/busybox:latest";
export const DEBIAN = "local/debian:bookworm";
/** The engine's socket: DOCKER_HOST when it names one (e.g. Podman's), else Docker's. */
const SOCKET = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice("unix://".length) : "/var/run/docker.sock";

/**
 * Settings every test container needs on this engine: Podman sets nofile and nproc limits above what
 * these sandboxed machines allow, so they are set within them (`RUNNER_TEST_ULIMITS=1`).
 */
export const ENGINE_SETTINGS = process.env.RUNNER_TEST_ULIMITS ? { ulimits: { nofile: "1024", nproc: "1024" } } : {};

/** Whether a Docker engine can be used here; in CI it must be (`.ci/run` installs docker.io). */
export function dockerAvailable(): boolean {
  const available = existsSync("/usr/sbin/dockerd") || existsSync(SOCKET);
  if (!available && process.env.CI === "true") throw new Error("dockerd is missing in CI; .ci/run installs docker.io");
  if (!available) console.warn("\n!!! SKIPPING the Docker suite: dockerd is not installed (apt-get install docker.io) !!!\n");
  return available;
}

async function ping(): Promise<boolean> {
  try {
    const response = await fetch("http://localhost/_ping", { unix: SOCKET } as RequestInit);
    return response.ok;
  } catch {
    return false;
  }
}

async function api(method: string, path: string): Promise<Response> {
  return fetch(`http://localhost${path}`, { method, unix: SOCKET } as RequestInit);
}

/** Starts dockerd (no iptables, no forwarding: containers reach only each other) and builds the images. */
export async function startDocker(): Promise<void> {
  if (!(await ping())) {
    if (SOCKET !== "/var/run/docker.sock") throw new Error(`no engine answers on ${SOCKET}`);
    Bun.spawn(["dockerd", "--iptables=false", "--ip-forward=false"], {
      stdout: "ignore", stderr: Bun.file(join(tmpdir(), "runner-dockerd.log")),
    }).unref();
    for (let i = 0; i < 300 && !(await ping()); i++) await Bun.sleep(100);
    if (!(await ping())) throw new Error("dockerd did not start; see /tmp/runner-dockerd.log");
  }
  if ((await api("GET", `/images/${BUSYBOX}/json`)).status !== 200) await importRoot(busyboxRoot(), BUSYBOX);
  if ((await api("GET", `/images/${DEBIAN}/json`)).status !== 200) await importRoot(debianRoot(), DEBIAN);
}

function busyboxRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "runner-busybox-"));
  mkdirSync(join(root, "bin"));
  mkdirSync(join(root, "tmp"));
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  const list = Bun.spawnSync(["/bin/busybox", "--list"]).stdout.toString().split("\n").filter(Boolean);
  for (const name of list) if (name !== "busybox") symlinkSync("busybox", join(root, "bin", name));
  return root;
}

function debianRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "runner-debian-"));
  const sources = readFileSync("/etc/apt/sources.list.d/debian.sources", "utf8");
  const mirror = /^URIs:\s*(\S+)/m.exec(sources)?.[1];
  if (!mirror) throw new Error("no URIs: line in /etc/apt/sources.list.d/debian.sources");
  const r = Bun.spawnSync(["debootstrap", "--variant=minbase", "--include=git,ca-certificates", "bookworm", root, mirror]);
  if (r.exitCode !== 0) throw new Error(`debootstrap failed: ${r.stderr}`);
  return root;
}

/** `POST /images/create?fromSrc=-` with the root as a tar stream (what `docker import` does); the tag goes in `repo`, which Podman reads too. */
async function importRoot(root: string, name: string): Promise<void> {
  const tar = Bun.spawnSync(["tar", "-C", root, "-c", "."], { stdout: "pipe" });
  rmSync(root, { recursive: true, force: true });
  const response = await fetch(`http://localhost/images/create?fromSrc=-&repo=${encodeURIComponent(name)}`, {
    method: "POST", body: tar.stdout, headers: { "content-type": "application/x-tar" }, unix: SOCKET,
  } as RequestInit);
  const text = await response.text();
  if (!response.ok || text.includes('"error"')) throw new Error(`importing ${name}: ${text}`);
}

/** Containers, networks and volumes carrying `label=value`. */
export async function labelled(label: string): Promise<{ containers: number; networks: number; volumes: number }> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const containers = (await (await api("GET", `/containers/json?all=true&filters=${filters}`)).json()) as unknown[];
  const networks = (await (await api("GET", `/networks?filters=${filters}`)).json()) as unknown[];
  const volumes = ((await (await api("GET", `/volumes?filters=${filters}`)).json()) as { Volumes: unknown[] | null }).Volumes ?? [];
  return { containers: containers.length, networks: networks.length, volumes: volumes.length };
}
