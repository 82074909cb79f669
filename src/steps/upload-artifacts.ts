import type { JobContext } from "./context.ts";

/** Whether any artifact is to be uploaded for a job that ended as `succeeded` says. */
export function hasArtifactsToUpload(ctx: JobContext, succeeded: boolean): boolean {
  return (ctx.job.artifacts ?? []).some(
    (a) => a.when === "always" || a.when === (succeeded ? "on_success" : "on_failure"),
  );
}

/** upload_artifacts_on_success / _on_failure. Artifact transfer is not built yet. */
export async function uploadArtifacts(ctx: JobContext): Promise<void> {
  for (const artifact of ctx.job.artifacts ?? []) {
    ctx.trace.warning(`Artifact "${artifact.name}" was not uploaded: artifact transfer is not built yet`);
  }
}
