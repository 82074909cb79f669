import { rm } from "node:fs/promises";
import type { JobContext } from "./context.ts";
import { scriptFailure } from "../protocol/job-failure.ts";
import { ArtifactTransferError } from "../protocol/artifacts-api.ts";
import { UnsafeArchiveError } from "./archive/unsafe-archive-error.ts";
import { temporaryArchive } from "./local-files.ts";

/** Whether download_artifacts has anything to do. */
export function hasArtifactsToDownload(ctx: JobContext): boolean {
  return (ctx.job.dependencies ?? []).some((d) => d.artifacts_file?.filename);
}

/**
 * download_artifacts (docs/protocol.md §7.2): the artifacts of each dependency that has some, downloaded with its
 * token and extracted into the project directory; an entry that would leave it is refused.
 */
export async function downloadArtifacts(ctx: JobContext): Promise<void> {
  for (const dependency of (ctx.job.dependencies ?? []).filter((d) => d.artifacts_file?.filename)) {
    if (!ctx.artifacts) {
      ctx.trace.stage.warning(`Artifacts of ${dependency.name} were not downloaded: artifacts are not available here`);
      continue;
    }
    const { projectDir } = ctx.executor.directories;
    ctx.trace.stage.info(`Downloading artifacts for ${dependency.name} (${dependency.id})...`);
    const file = temporaryArchive("artifacts.zip");
    try {
      ctx.trace.stage.println(await ctx.artifacts.download({ dependency, file, signal: ctx.signal }));
      await (await import("./archive/zip.ts")).extractZip(file, ctx.executor.files, projectDir);
    } catch (error) {
      if (error instanceof ArtifactTransferError || error instanceof UnsafeArchiveError) {
        ctx.trace.stage.error(error.message);
        throw scriptFailure(1, ctx.executor.describeExit(1));
      }
      throw error;
    } finally {
      await rm(file, { force: true });
    }
  }
}
