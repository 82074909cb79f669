import type { Artifact, Dependency } from "../protocol/types.ts";

/**
 * Moves artifact archives between a job and where artifacts live: the coordinator for GitLab's
 * jobs, the run's folder for local runs. Each call returns the log line to show.
 */
export interface ArtifactTransfer {
  upload(request: { artifact: Artifact; file: string; filename: string; signal: AbortSignal }): Promise<string>;
  download(request: { dependency: Dependency; file: string; signal: AbortSignal }): Promise<string>;
}
