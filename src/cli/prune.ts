import { rmSync } from "node:fs";
import { join } from "node:path";
import { DockerApi } from "../executors/docker/docker-api.ts";
import { keptVolumeSuffix } from "../executors/docker/docker-names.ts";
import { readGitFacts } from "../pipeline/git-facts.ts";

interface Volume {
  readonly Name: string;
  readonly Labels: Record<string, string> | null;
}

/**
 * `runner prune`: what local runs of this project keep between runs — its Docker build volumes
 * (one per concurrency slot, kept so that the next run copies only what changed) and
 * `.runner/builds` — removed. `--all`: every local run's volumes and the runner's tools volumes.
 * Volumes a running job uses stay, and are named.
 */
export async function prune(options: { cwd: string; all: boolean; env: Record<string, string>; print: (line: string) => void }): Promise<number> {
  const git = await readGitFacts(options.cwd, options.env);
  const suffix = keptVolumeSuffix(git.root);
  const api = new DockerApi();
  const listed = await api.request<{ Volumes: Volume[] | null }>("GET", "/volumes", { query: { filters: { label: ["dev.runner.managed=true"] } } })
    .catch((error: Error) => {
      options.print(`No Docker engine answers (${error.message}): no volume to remove`);
      return { Volumes: [] };
    });
  const ours = (listed.Volumes ?? []).filter((v) => {
    const labels = v.Labels ?? {};
    if (labels["dev.runner.tools"] === "true") return options.all;
    return labels["dev.runner.owner"] === "exec" && (options.all || v.Name.endsWith(suffix));
  });
  let kept = 0;
  for (const volume of ours) {
    await api.request("DELETE", `/volumes/${volume.Name}`).then(
      () => options.print(`removed volume ${volume.Name}`),
      (error: Error) => {
        kept++;
        options.print(`kept volume ${volume.Name}: ${error.message}`);
      },
    );
  }
  const builds = join(git.root, ".runner", "builds");
  rmSync(builds, { recursive: true, force: true });
  options.print(`removed ${builds}`);
  return kept === 0 ? 0 : 1;
}
