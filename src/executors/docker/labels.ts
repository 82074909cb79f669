import { hostname } from "node:os";
import type { DockerApi } from "./docker-api.ts";

/** Who made a job's containers, networks and volumes. */
export interface Ownership {
  /** This runner: its short token, or `exec` for local runs. */
  readonly runner: string;
  /** The job: unique among the runner's running jobs (e.g. `<short token>-<job id>`). */
  readonly job: string;
}

/** The labels on everything a job makes, so that it can be found and removed whatever happened. */
export function labelsFor(owner: Ownership): Record<string, string> {
  return {
    "dev.runner.managed": "true", "dev.runner.owner": owner.runner, "dev.runner.job": owner.job,
    // Which process made them: what a crashed run left behind is told from what a live one uses.
    "dev.runner.host": hostname(), "dev.runner.pid": String(process.pid),
  };
}

type Labelled = { Labels?: Record<string, string> | null };

/**
 * Removes what runs of `runner` on this machine left behind when their process died (a crash, a
 * kill -9): everything labelled with a pid that is no longer alive. Returns how many were removed.
 */
export async function removeLeftovers(api: DockerApi, runner: string): Promise<number> {
  const filters = { label: ["dev.runner.managed=true", `dev.runner.owner=${runner}`, `dev.runner.host=${hostname()}`] };
  const [containers, networks, volumes] = await Promise.all([
    api.request<(Labelled & { Id: string })[]>("GET", "/containers/json", { query: { all: true, filters } }),
    api.request<(Labelled & { Id: string })[]>("GET", "/networks", { query: { filters } }),
    api.request<{ Volumes: (Labelled & { Name: string })[] | null }>("GET", "/volumes", { query: { filters } }),
  ]);
  const dead = (o: Labelled) => {
    const pid = Number(o.Labels?.["dev.runner.pid"]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
  };
  let removed = 0;
  const count = (p: Promise<unknown>) => p.then(() => void removed++, () => {});
  await Promise.all(containers.filter(dead).map((c) => count(api.request("DELETE", `/containers/${c.Id}`, { query: { force: true, v: true } }))));
  await Promise.all(networks.filter(dead).map((n) => count(api.request("DELETE", `/networks/${n.Id}`))));
  await Promise.all((volumes.Volumes ?? []).filter(dead).map((v) => count(api.request("DELETE", `/volumes/${v.Name}`, { query: { force: true } }))));
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes every container, then network and volume, carrying all of `labels`. */
export async function removeLabelled(api: DockerApi, labels: Record<string, string>): Promise<number> {
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  let removed = 0;
  const containers = await api.request<{ Id: string }[]>("GET", "/containers/json", { query: { all: true, filters } });
  await Promise.all(containers.map((c) => api.request("DELETE", `/containers/${c.Id}`, { query: { force: true, v: true } }).then(() => removed++, () => {})));
  const networks = await api.request<{ Id: string }[]>("GET", "/networks", { query: { filters } });
  await Promise.all(networks.map((n) => api.request("DELETE", `/networks/${n.Id}`).then(() => removed++, () => {})));
  const volumes = await api.request<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", { query: { filters } });
  await Promise.all((volumes.Volumes ?? []).map((v) => api.request("DELETE", `/volumes/${v.Name}`, { query: { force: true } }).then(() => removed++, () => {})));
  return removed;
}
