import { afterScript, shouldRunAfterScript } from "./after-script.ts";
import { waitBeforeStageRetry } from "./stage-backoff.ts";
import { archiveCache, hasCacheToArchive } from "./archive-cache.ts";
import { cleanupFileVariables } from "./cleanup-file-variables.ts";
import { ensure, retry, section, sequence, settle, when, withTimeout, type Finishing, type Step } from "./compose.ts";
import type { JobContext } from "./context.ts";
import { downloadArtifacts, hasArtifactsToDownload } from "./download-artifacts.ts";
import { clearWorktree, getSources } from "./get-sources.ts";
import { prepareScript } from "./prepare-script.ts";
import { hasCacheToRestore, restoreCache } from "./restore-cache.ts";
import { stepScript } from "./step-script.ts";
import { hasArtifactsToUpload, uploadArtifacts } from "./upload-artifacts.ts";
import { attempts } from "./attempts.ts";
import { cancelNotice } from "../protocol/job-failure.ts";

const succeeded = (ctx: JobContext) => ctx.primary === undefined;
const failed = (ctx: JobContext) => ctx.primary !== undefined;
const notAborted = (ctx: JobContext) => !ctx.abortSignal.aborted;

/** The stages up to and including the user's script, under the job timeout (`runner_info.timeout`). */
const buildStages: Step<JobContext> = withTimeout(
  (ctx) => ctx.job.runner_info.timeout || 7200,
  sequence(
    section("prepare_script", "Preparing environment", prepareScript),
    section("get_sources", "Getting source from Git repository",
      retry(getSources, {
        attempts: attempts("GET_SOURCES_ATTEMPTS"), wait: waitBeforeStageRetry,
        beforeRetry: section("clear_worktree", "Deleting all tracked and untracked files due to source fetch failure",
          clearWorktree),
      })),
    when(hasCacheToRestore, section("restore_cache", "Restoring cache",
      retry(restoreCache, { attempts: attempts("RESTORE_CACHE_ATTEMPTS"), wait: waitBeforeStageRetry }))),
    when(hasArtifactsToDownload, section("download_artifacts", "Downloading artifacts",
      retry(downloadArtifacts, { attempts: attempts("ARTIFACT_DOWNLOAD_ATTEMPTS"), wait: waitBeforeStageRetry }))),
    stepScript,
  ),
);

/**
 * A graceful cancel is said right after the script it stopped, before after_script runs, as
 * GitLab Runner's executeScript writes `script canceled externally (UI, API)`.
 */
const noteCancel: Step<JobContext> = async (ctx) => {
  const notice = ctx.primary?.interruption === "canceled" ? cancelNotice(ctx.cancelSignal?.reason) : undefined;
  if (notice) ctx.trace.warning(notice);
};

/**
 * What happens after the script, whatever its outcome, unless the job was aborted: after_script,
 * then the cache, then the artifacts, each run even when the one before failed.
 */
const finishing: Finishing<JobContext> = {
  afterScript: sequence(noteCancel, when(shouldRunAfterScript, section("after_script", "Running after_script", afterScript))),
  cache: sequence(
    when((c) => notAborted(c) && succeeded(c) && hasCacheToArchive(c, true),
      section("archive_cache", "Saving cache for successful job", archiveCache)),
    when((c) => notAborted(c) && failed(c) && hasCacheToArchive(c, false),
      section("archive_cache_on_failure", "Saving cache for failed job", archiveCache)),
  ),
  artifacts: sequence(
    when((c) => notAborted(c) && succeeded(c) && hasArtifactsToUpload(c, true),
      section("upload_artifacts_on_success", "Uploading artifacts for successful job", uploadArtifacts)),
    when((c) => notAborted(c) && failed(c) && hasArtifactsToUpload(c, false),
      section("upload_artifacts_on_failure", "Uploading artifacts for failed job", uploadArtifacts)),
  ),
};

/** A job, in GitLab Runner's stage order (docs/how-a-job-runs.md): the failure that decides it is pickPriorityError's. */
export const job: Step<JobContext> = ensure(
  settle(buildStages, finishing),
  section("cleanup_file_variables", "Cleaning up project directory and file based variables", cleanupFileVariables),
);
