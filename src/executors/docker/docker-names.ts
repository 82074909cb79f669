import type { RunnerConfig } from "../../config/config-schema.ts";
import { shortToken } from "../../protocol/token.ts";
import type { JobResponse } from "../../protocol/types.ts";
import type { Ownership } from "./labels.ts";

// The names of what the docker executor makes, for the commands that find them again (`--shell-on-failure`,
// `runner prune`) without loading the executor.

/** Who makes a job's containers: the runner (its short token; `exec` for local runs) and the job, with this process. */
export function dockerOwner(runner: RunnerConfig, payload: JobResponse): Ownership {
  const name = shortToken(runner.token) || "exec";
  return { runner: name, job: `${name}-${process.pid}-${payload.id}` };
}

/** The job's build container's name (what `docker exec` enters). */
export function buildContainerName(owner: Ownership): string {
  return `runner-${owner.job}-build`;
}

/** How the name of a kept build volume ends: the hash of its repository's URL (a local run's: its directory). */
export function keptVolumeSuffix(repoUrl: string): string {
  return `-${Bun.hash(repoUrl).toString(16)}`;
}

