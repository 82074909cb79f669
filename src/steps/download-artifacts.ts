import type { JobContext } from "./context.ts";

/** Whether download_artifacts has anything to do. */
export function hasArtifactsToDownload(ctx: JobContext): boolean {
  return (ctx.job.dependencies ?? []).some((d) => d.artifacts_file !== undefined);
}

/** download_artifacts: the artifacts of the job's dependencies. Artifact transfer is not built yet. */
export async function downloadArtifacts(ctx: JobContext): Promise<void> {
  for (const dependency of ctx.job.dependencies ?? []) {
    ctx.trace.warning(`Artifacts of ${dependency.name} were not downloaded: artifact transfer is not built yet`);
  }
}
