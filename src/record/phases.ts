/** The stable phase codes of a job's record (documented in the README and the schemas). */
export const PHASES = [
  "job.provider_prepare", "job.source_prepare", "job.cache_restore", "job.artifact_restore", "job.execution",
  "execution.script", "job.after_script", "job.cache_save", "job.artifact_save", "job.cleanup",
] as const;
export type PhaseCode = (typeof PHASES)[number];

/** Phases every job's record has, started or not. */
export const ALWAYS_PRESENT: readonly PhaseCode[] = ["job.provider_prepare", "job.execution", "job.cleanup"];

/** Which phase each of GitLab Runner's build stages (trace sections) belongs to. */
export function phaseOfSection(section: string): PhaseCode | undefined {
  if (section === "prepare_executor" || section === "prepare_script") return "job.provider_prepare";
  if (section === "get_sources" || section === "clear_worktree") return "job.source_prepare";
  if (section === "restore_cache") return "job.cache_restore";
  if (section === "download_artifacts") return "job.artifact_restore";
  if (section.startsWith("step_")) return "job.execution";
  if (section === "after_script") return "job.after_script";
  if (section.startsWith("archive_cache")) return "job.cache_save";
  if (section.startsWith("upload_artifacts")) return "job.artifact_save";
  if (section === "cleanup_file_variables") return "job.cleanup";
  return undefined;
}

export type PhaseStatus = "success" | "failed" | "canceled" | "skipped";

/** One line of events.jsonl. */
export type RecordEvent =
  | { type: "job.start"; job: string; time: string }
  | { type: "phase.start"; job: string; phase: PhaseCode; time: string; index?: number; command?: string }
  | {
      type: "phase.finish"; job: string; phase: PhaseCode; time: string; status: PhaseStatus; duration_ms: number;
      index?: number; exit_code?: number; bytes?: number; skip_reason?: string;
    }
  | { type: "job.finish"; job: string; time: string; status: string; exit_code?: number; failure_reason?: string; duration_ms: number };
