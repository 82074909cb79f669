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
  return { "dev.runner.managed": "true", "dev.runner.owner": owner.runner, "dev.runner.job": owner.job };
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
