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

/** Removes every container, then network and volume, carrying all of `labels`. */
export function removeLabelled(api: DockerApi, labels: Record<string, string>): Promise<number> {
  return removeWhere(api, Object.entries(labels).map(([k, v]) => `${k}=${v}`), () => true);
}

type Labelled = { Labels?: Record<string, string> | null };

/**
 * Removes what runs of `runner` on this machine left behind when their process died (a crash, a
 * kill -9): everything labelled with a pid that is no longer alive. Returns how many were removed.
 */
export function removeLeftovers(api: DockerApi, runner: string): Promise<number> {
  const dead = (o: Labelled) => {
    const pid = Number(o.Labels?.["dev.runner.pid"]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
  };
  return removeWhere(api, ["dev.runner.managed=true", `dev.runner.owner=${runner}`, `dev.runner.host=${hostname()}`], dead);
}

/** Removes the containers, then the networks and volumes, that carry every label and pass `chosen`; returns how many. */
async function removeWhere(api: DockerApi, label: string[], chosen: (o: Labelled) => boolean): Promise<number> {
  const filters = { label };
  const [containers, networks, volumes] = await Promise.all([
    api.request<(Labelled & { Id: string })[]>("GET", "/containers/json", { query: { all: true, filters } }),
    api.request<(Labelled & { Id: string })[]>("GET", "/networks", { query: { filters } }),
    api.request<{ Volumes: (Labelled & { Name: string })[] | null }>("GET", "/volumes", { query: { filters } }),
  ]);
  let removed = 0;
  const count = (p: Promise<unknown>) => p.then(() => void removed++, () => {});
  // Containers first: a network or volume in use cannot go.
  await Promise.all(containers.filter(chosen).map((c) => count(api.request("DELETE", `/containers/${c.Id}`, { query: { force: true, v: true } }))));
  await Promise.all([
    ...networks.filter(chosen).map((n) => count(api.request("DELETE", `/networks/${n.Id}`))),
    ...(volumes.Volumes ?? []).filter(chosen).map((v) => count(api.request("DELETE", `/volumes/${v.Name}`, { query: { force: true } }))),
  ]);
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
