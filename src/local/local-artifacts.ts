import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Dependency } from "../protocol/types.ts";
import { ArtifactTransferError } from "../protocol/artifacts-api.ts";
import type { ArtifactTransfer } from "../steps/artifact-transfer.ts";
import type { Received } from "../pipeline/payload.ts";
import type { PlannedJob } from "../pipeline/plan.ts";

interface Stored {
  archive?: { path: string; filename: string; size: number };
  dotenv: { key: string; value: string }[];
}

/**
 * Artifacts of a local run, kept in each job's folder of the run record: what a job uploads, and
 * what later jobs receive — from their needs with `artifacts: true`, else their `dependencies`, else
 * every job of the earlier stages (docs/pipeline.md §8.9), with the dotenv variables of those jobs.
 */
export class LocalArtifacts {
  readonly #stored = new Map<string, Stored>();

  /** Where a job's uploads go. */
  transferFor(job: string, dir: string): ArtifactTransfer {
    return {
      upload: async ({ artifact, file, filename }) => {
        await mkdir(join(dir, "artifacts"), { recursive: true });
        const kept = join(dir, "artifacts", filename);
        await copyFile(file, kept);
        const stored = this.#stored.get(job) ?? { dotenv: [] };
        if (artifact.artifact_type === "archive") stored.archive = { path: kept, filename, size: (await stat(kept)).size };
        if (artifact.artifact_type === "dotenv") stored.dotenv.push(...parseDotenv((await readFile(kept)), artifact.artifact_format));
        this.#stored.set(job, stored);
        return `Uploading artifacts as "${artifact.artifact_type}" to the run record... ok  file=${kept}`;
      },
      download: async ({ dependency, file }) => {
        const archive = this.#stored.get(dependency.name)?.archive;
        if (!archive) throw new ArtifactTransferError(`no artifacts of ${dependency.name} in this run`);
        await copyFile(archive.path, file);
        return `Downloading artifacts from the run record... ok  job=${dependency.name}`;
      },
    };
  }

  /** What `planned` receives from the jobs before it. */
  received(planned: PlannedJob, all: readonly PlannedJob[], idOf: (name: string) => number): Received {
    const { job } = planned;
    // GitLab's Ci::BuildDependencies#local: the needs with `artifacts: true` (a DAG job), else every
    // job of the earlier stages; then, when `dependencies` is given, only those of them.
    const candidates = job.needs
      ? job.needs.filter((n) => n.artifacts).map((n) => n.job)
      : all.filter((p) => p.stageIndex < planned.stageIndex).map((p) => p.job.name);
    const named = (name: string) => {
      const group = all.find((p) => p.job.name === name)?.job.parallel?.group;
      return job.dependencies!.includes(name) || (group !== undefined && job.dependencies!.includes(group));
    };
    const sources = job.dependencies ? candidates.filter(named) : candidates;
    const dependencies: Dependency[] = [];
    const dotenv: { key: string; value: string }[] = [];
    for (const name of sources) {
      const stored = this.#stored.get(name);
      if (!stored) continue;
      if (stored.archive) {
        dependencies.push({ id: idOf(name), name, token: "local", artifacts_file: { filename: stored.archive.filename, size: stored.archive.size } });
      }
      dotenv.push(...stored.dotenv);
    }
    return { dependencies, dotenv };
  }
}

/** A dotenv report: `KEY=VALUE` lines, no quoting, no comments; later duplicates win (docs/pipeline.md §8.9). */
export function parseDotenv(data: Buffer, format: string): { key: string; value: string }[] {
  const text = (format === "gzip" ? Buffer.from(Bun.gunzipSync(data as Uint8Array<ArrayBuffer>)) : data).toString("utf8");
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (match) out.set(match[1]!, match[2]!.trim());
  }
  return [...out].map(([key, value]) => ({ key, value }));
}
