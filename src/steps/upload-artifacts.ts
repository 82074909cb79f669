import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Artifact } from "../protocol/types.ts";
import { collectEntries } from "./archive/collect.ts";
import type { JobContext } from "./context.ts";
import { scriptFailure } from "./job-failure.ts";
import { expand, localProjectDir, temporaryArchive } from "./local-files.ts";

/** Whether an artifact is uploaded for a job that ended as `succeeded` says. */
function wanted(artifact: Artifact, succeeded: boolean): boolean {
  return artifact.when === "always" || artifact.when === (succeeded ? "on_success" : "on_failure");
}

/** Whether any artifact is to be uploaded for a job that ended as `succeeded` says. */
export function hasArtifactsToUpload(ctx: JobContext, succeeded: boolean): boolean {
  return (ctx.job.artifacts ?? []).some((a) => wanted(a, succeeded));
}

const EXTENSIONS: Record<string, string> = { zip: ".zip", gzip: ".gz", raw: "" };

/**
 * upload_artifacts_on_success / _on_failure (§7.1): each artifact whose `when` fits is collected
 * (`paths`, `exclude`, `untracked`), archived as its format says (zip, gzip, raw) and uploaded.
 */
export async function uploadArtifacts(ctx: JobContext): Promise<void> {
  const succeeded = ctx.primary === undefined;
  for (const artifact of (ctx.job.artifacts ?? []).filter((a) => wanted(a, succeeded))) {
    if (!ctx.artifacts) {
      ctx.trace.warning(`Artifact "${artifact.name}" was not uploaded: artifacts are not available here`);
      continue;
    }
    const projectDir = localProjectDir(ctx);
    ctx.trace.info("Uploading artifacts...");
    const collected = await collectEntries({
      projectDir, kind: "artifact", env: {},
      paths: artifact.paths.map((p) => expand(ctx, p)),
      exclude: (artifact.exclude ?? []).map((p) => expand(ctx, p)),
      untracked: artifact.untracked ?? false,
    });
    for (const line of collected.lines) ctx.trace.println(line);
    for (const warning of collected.warnings) ctx.trace.warning(warning);
    const files = await onlyFiles(projectDir, collected.entries);
    if (files.length === 0) {
      ctx.trace.error("No files to upload");
      continue;
    }
    const format = artifact.artifact_format || "zip";
    const filename = basename(expand(ctx, artifact.name) || "artifacts") + (EXTENSIONS[format] ?? "");
    const archive = format === "raw" ? undefined : temporaryArchive(filename);
    try {
      if (format === "raw" && files.length !== 1) {
        ctx.trace.error(`The raw format needs exactly one file; ${files.length} matched`);
        throw scriptFailure(1);
      }
      // The archivers are loaded only by jobs that have artifacts: they cost start-up time.
      if (format === "gzip") await (await import("./archive/gzip.ts")).writeGzip(projectDir, files, archive!);
      else if (format === "zip") await (await import("./archive/zip.ts")).writeZip(projectDir, collected.entries, archive!);
      const line = await ctx.artifacts.upload({
        artifact, filename, file: archive ?? join(projectDir, files[0]!), signal: ctx.signal,
      });
      ctx.trace.println(line);
    } catch (error) {
      if (error instanceof Error && error.name === "ArtifactTransferError") {
        ctx.trace.error(error.message);
        throw scriptFailure(1);
      }
      throw error;
    } finally {
      if (archive) await rm(archive, { force: true });
    }
  }
}

async function onlyFiles(root: string, entries: readonly string[]): Promise<string[]> {
  const { lstat } = await import("node:fs/promises");
  const files: string[] = [];
  for (const entry of entries) if (!(await lstat(join(root, entry))).isDirectory()) files.push(entry);
  return files;
}
