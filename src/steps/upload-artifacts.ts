import { rm } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import type { Artifact } from "../protocol/types.ts";
import { CollectError, collectEntries } from "./archive/collect.ts";
import type { JobContext } from "./context.ts";
import { scriptFailure } from "../protocol/job-failure.ts";
import { ArtifactTransferError } from "../protocol/artifacts-api.ts";
import { OutsidePathError } from "../executors/build-files.ts";
import { expand, temporaryArchive, untrackedLister } from "./local-files.ts";

/** Whether an artifact is uploaded for a job that ended as `succeeded` says. */
function wanted(artifact: Artifact, succeeded: boolean): boolean {
  return artifact.when === "always" || artifact.when === (succeeded ? "on_success" : "on_failure");
}

/** Whether any artifact is to be uploaded for a job that ended as `succeeded` says. */
export function hasArtifactsToUpload(ctx: JobContext, succeeded: boolean): boolean {
  return artifactsOf(ctx, () => {}).some((a) => wanted(a, succeeded));
}

/**
 * The job's artifacts and what its commands added: files (`task.uploadfile`, `artifact.upload`) join
 * its archive (GitLab keeps one per job), and `isoutput=true` variables go as a dotenv report, as
 * `artifacts:reports:dotenv` would send them.
 */
function artifactsOf(ctx: JobContext, warn: (text: string) => void): Artifact[] {
  const declared = [...(ctx.job.artifacts ?? [])];
  const uploads = (ctx.commands?.uploads ?? []).flatMap((path) => {
    const relative = posix.isAbsolute(path) ? posix.relative(ctx.executor.directories.projectDir, path) : path;
    if (relative.startsWith("..") || posix.isAbsolute(relative)) {
      warn(`${path} is outside the project directory: not uploaded`);
      return [];
    }
    return [relative];
  });
  if (uploads.length > 0) {
    const archive = declared.findIndex((a) => a.artifact_type === "archive");
    if (archive >= 0) declared[archive] = { ...declared[archive]!, paths: [...declared[archive]!.paths, ...uploads] };
    else declared.push({ name: "artifacts", paths: uploads, when: "always", artifact_type: "archive", artifact_format: "zip" });
  }
  if (ctx.commands?.dotenv() !== undefined) {
    if (declared.some((a) => a.artifact_type === "dotenv")) warn("isoutput variables are not sent: the job has a dotenv report of its own");
    else declared.push({ name: OUTPUTS_FILE, paths: [OUTPUTS_FILE], when: "always", artifact_type: "dotenv", artifact_format: "gzip" });
  }
  return declared;
}

/** Where `isoutput=true` variables are written for their dotenv report, in the project directory. */
const OUTPUTS_FILE = ".runner-job-outputs.env";

async function writeOutputs(ctx: JobContext): Promise<void> {
  const dotenv = ctx.commands?.dotenv();
  if (dotenv === undefined) return;
  const stream = ctx.executor.files.write(posix.join(ctx.executor.directories.projectDir, OUTPUTS_FILE), 0o600);
  await new Promise<void>((done, fail) => {
    stream.on("error", fail);
    stream.end(dotenv, () => done());
  });
}

const EXTENSIONS: Record<string, string> = { zip: ".zip", gzip: ".gz", raw: "" };

/**
 * upload_artifacts_on_success / _on_failure (docs/protocol.md §7.1): each artifact whose `when` fits is collected
 * (`paths`, `exclude`, `untracked`), archived as its format says (zip, gzip, raw) and uploaded.
 */
export async function uploadArtifacts(ctx: JobContext): Promise<void> {
  const succeeded = ctx.primary === undefined;
  await writeOutputs(ctx);
  // Said once, here, not again when the stage decides whether it has work.
  for (const artifact of artifactsOf(ctx, (text) => ctx.trace.stage.warning(text)).filter((a) => wanted(a, succeeded))) {
    if (!ctx.artifacts) {
      ctx.trace.stage.warning(`Artifact "${artifact.name}" was not uploaded: artifacts are not available here`);
      continue;
    }
    const { projectDir } = ctx.executor.directories;
    const files = ctx.executor.files;
    ctx.trace.stage.info("Uploading artifacts...");
    const collected = await collectEntries({
      files, projectDir, kind: "artifact",
      paths: artifact.paths.map((p) => expand(ctx, p)),
      exclude: (artifact.exclude ?? []).map((p) => expand(ctx, p)),
      untracked: untrackedLister(ctx, artifact.untracked),
    }).catch((error: unknown) => {
      if (!(error instanceof CollectError)) throw error;
      ctx.trace.stage.error(error.message);
      throw scriptFailure(1, ctx.executor.describeExit(1));
    });
    for (const line of collected.lines) ctx.trace.stage.println(line);
    for (const warning of collected.warnings) ctx.trace.stage.warning(warning);
    const regular = await onlyFiles(ctx, collected.entries);
    if (regular.length === 0) {
      ctx.record?.skip("job.artifact_save", "no paths matched");
      ctx.trace.stage.error("No files to upload");
      continue;
    }
    const format = artifact.artifact_format || "zip";
    const filename = basename(expand(ctx, artifact.name) || "artifacts") + (EXTENSIONS[format] ?? "");
    let archive: string | undefined = format === "raw" ? undefined : temporaryArchive(filename);
    try {
      if (format === "raw" && regular.length !== 1) {
        ctx.trace.stage.error(`The raw format needs exactly one file; ${regular.length} matched`);
        throw scriptFailure(1, ctx.executor.describeExit(1));
      }
      // The archivers are loaded only by jobs that have artifacts: they cost start-up time.
      if (format === "gzip") await (await import("./archive/gzip.ts")).writeGzip(files, projectDir, regular, archive!);
      else if (format === "zip") await (await import("./archive/zip.ts")).writeZip(files, projectDir, collected.entries, archive!);
      else await copyOut(ctx, join(projectDir, regular[0]!), (archive = temporaryArchive(filename)));
      const line = await ctx.artifacts.upload({ artifact, filename, file: archive!, signal: ctx.signal });
      ctx.trace.stage.println(line);
    } catch (error) {
      if (error instanceof ArtifactTransferError || error instanceof OutsidePathError) {
        ctx.trace.stage.error(error.message);
        throw scriptFailure(1, ctx.executor.describeExit(1));
      }
      throw error;
    } finally {
      if (archive) await rm(archive, { force: true });
    }
  }
}

async function onlyFiles(ctx: JobContext, entries: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const entry of entries) {
    const stat = await ctx.executor.files.stat(join(ctx.executor.directories.projectDir, entry));
    if (stat && stat.type !== "directory") out.push(entry);
  }
  return out;
}

/** A raw artifact is uploaded as it is: copied to this machine first when it lives elsewhere. */
async function copyOut(ctx: JobContext, from: string, to: string): Promise<void> {
  const { createWriteStream } = await import("node:fs");
  const { pipeline } = await import("node:stream/promises");
  await pipeline(await ctx.executor.files.readInside(ctx.executor.directories.projectDir, from), createWriteStream(to, { mode: 0o600 }));
}
