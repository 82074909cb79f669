import type { JobFailure } from "../protocol/job-failure.ts";
import type { TraceObserver } from "../trace/job-trace.ts";
import { ALWAYS_PRESENT, phaseOfSection, type PhaseCode, type PhaseStatus, type RecordEvent } from "./phases.ts";

/** One phase of a job as the record keeps it. */
export interface PhaseRecord {
  readonly phase: PhaseCode;
  readonly status: PhaseStatus;
  readonly started_at: string;
  readonly duration_ms: number;
  /** Bytes of trace the phase wrote: `[start, end)` offsets into trace.log. */
  readonly trace: { readonly start: number; readonly end: number };
  readonly index?: number;
  readonly command?: string;
  readonly exit_code?: number;
  readonly skip_reason?: string;
}

interface Open {
  readonly phase: PhaseCode;
  readonly start: number;
  readonly offset: number;
  readonly index?: number;
  readonly command?: string;
}

/**
 * Turns what happens in one job's trace into its record: phases with their status, timings, trace
 * byte ranges and skip reasons, one `execution.script` phase per numbered script line, and the events
 * of events.jsonl as they happen. The phases every job has are added, skipped, when the job never
 * reached them.
 */
export class JobRecorder implements TraceObserver {
  readonly phases: PhaseRecord[] = [];
  readonly #job: string;
  readonly #emit: (event: RecordEvent) => void;
  readonly #commands: (index: number) => string | undefined;
  readonly #now: () => number;
  readonly #open = new Map<PhaseCode, Open>();
  readonly #skipping = new Map<PhaseCode, string>();
  #line: Open | undefined;
  #bytes = 0;
  #started = 0;
  #lastFailure: { phase: PhaseCode; failure: JobFailure } | undefined;

  constructor(options: {
    job: string;
    emit: (event: RecordEvent) => void;
    /** The (masked) text of script line `index`. */
    commands: (index: number) => string | undefined;
    /** A phrase masked from now on (a job command's), in what is recorded. */
    addMask?: (phrase: string) => void;
    now?: () => number;
  }) {
    this.addMask = options.addMask ?? (() => {});
    this.#job = options.job;
    this.#emit = options.emit;
    this.#commands = options.commands;
    this.#now = options.now ?? Date.now;
  }

  /** Masks `phrase` in what is recorded from now on (a job command's `task.setsecret`). */
  readonly addMask: (phrase: string) => void;

  /** The job starts. */
  start(): void {
    this.#started = this.#now();
    this.#emit({ type: "job.start", job: this.#job, time: iso(this.#started) });
  }

  sectionStart(name: string, time: number): void {
    const phase = phaseOfSection(name);
    if (phase === undefined || this.#open.has(phase) || this.phases.some((p) => p.phase === phase && phase === "job.provider_prepare")) return;
    this.#begin(phase, time);
  }

  sectionEnd(name: string, time: number, failure: JobFailure | undefined): void {
    const phase = phaseOfSection(name);
    if (phase === undefined || !this.#open.has(phase)) return;
    // Preparing spans two stages (prepare_executor, prepare_script); clear_worktree sits inside get_sources.
    if (!failure && (name === "prepare_executor" || name === "clear_worktree")) return;
    if (phase === "job.execution") this.#endLine(time, failure);
    if (failure) this.#lastFailure = { phase, failure };
    this.#end(phase, time, statusOf(failure), failure?.exitCode);
  }

  scriptLine(index: number, time: number): void {
    this.#endLine(time, undefined);
    const command = this.#commands(index);
    this.#line = { phase: "execution.script", start: time, offset: this.#bytes, index, ...(command !== undefined ? { command } : {}) };
    this.#emit({ type: "phase.start", job: this.#job, phase: "execution.script", time: iso(time), index, ...(command !== undefined ? { command } : {}) });
  }

  bytes(count: number): void {
    this.#bytes += count;
  }

  /**
   * A phase deliberately not done (`policy: pull`, `no paths matched`, …): recorded as skipped with
   * the reason, also when its stage ran only to say so.
   */
  skip(phase: PhaseCode, reason: string): void {
    if (this.#open.has(phase)) this.#skipping.set(phase, reason);
    else if (!this.phases.some((p) => p.phase === phase)) this.#record({ phase, start: this.#now(), offset: this.#bytes }, this.#now(), "skipped", undefined, reason);
  }

  /** The job ended: what is still open is closed, and the phases it never reached are added as skipped. */
  finish(outcome: { status: string; failure?: JobFailure; skipReason?: string }): { failedPhase?: PhaseCode } {
    const now = this.#now();
    this.#endLine(now, outcome.failure);
    for (const phase of [...this.#open.keys()]) this.#end(phase, now, statusOf(outcome.failure), outcome.failure?.exitCode);
    for (const phase of ALWAYS_PRESENT) {
      if (this.phases.some((p) => p.phase === phase)) continue;
      this.#record({ phase, start: now, offset: this.#bytes }, now, "skipped", undefined, this.#skipReason(outcome));
    }
    const failure = outcome.failure;
    this.#emit({
      type: "job.finish", job: this.#job, time: iso(now), status: outcome.status, duration_ms: now - this.#started,
      ...(failure?.exitCode ? { exit_code: failure.exitCode } : {}),
      ...(failure ? { failure_reason: failure.failureReason } : {}),
    });
    return this.#lastFailure ? { failedPhase: this.#lastFailure.phase } : {};
  }

  #skipReason(outcome: { status: string; failure?: JobFailure; skipReason?: string }): string {
    if (outcome.skipReason) return outcome.skipReason;
    if (this.#lastFailure) return `${this.#lastFailure.phase} failed`;
    if (outcome.failure?.interruption === "canceled") return "the job was canceled";
    if (outcome.failure) return `the job failed before it: ${outcome.failure.message}`;
    return "not needed";
  }

  #begin(phase: PhaseCode, time: number): void {
    this.#open.set(phase, { phase, start: time, offset: this.#bytes });
    this.#emit({ type: "phase.start", job: this.#job, phase, time: iso(time) });
  }

  #end(phase: PhaseCode, time: number, status: PhaseStatus, exitCode?: number): void {
    const open = this.#open.get(phase)!;
    this.#open.delete(phase);
    const skipped = this.#skipping.get(phase);
    if (skipped !== undefined && status === "success") this.#record(open, time, "skipped", undefined, skipped, true);
    else this.#record(open, time, status, exitCode);
  }

  #endLine(time: number, failure: JobFailure | undefined): void {
    if (!this.#line) return;
    const line = this.#line;
    this.#line = undefined;
    this.#record(line, time, failure ? statusOf(failure) : "success", failure ? failure.exitCode : 0);
  }

  #record(open: Open, time: number, status: PhaseStatus, exitCode?: number, skipReason?: string, started = false): void {
    const record: PhaseRecord = {
      phase: open.phase, status, started_at: iso(open.start), duration_ms: Math.max(0, time - open.start),
      trace: { start: open.offset, end: this.#bytes },
      ...(open.index !== undefined ? { index: open.index } : {}),
      ...(open.command !== undefined ? { command: open.command } : {}),
      ...(exitCode !== undefined ? { exit_code: exitCode } : {}),
      ...(skipReason !== undefined ? { skip_reason: skipReason } : {}),
    };
    this.phases.push(record);
    if (skipReason !== undefined && !started) {
      this.#emit({ type: "phase.start", job: this.#job, phase: open.phase, time: iso(open.start) });
    }
    this.#emit({
      type: "phase.finish", job: this.#job, phase: open.phase, time: iso(time), status, duration_ms: record.duration_ms,
      bytes: record.trace.end - record.trace.start,
      ...(open.index !== undefined ? { index: open.index } : {}),
      ...(exitCode !== undefined ? { exit_code: exitCode } : {}),
      ...(skipReason !== undefined ? { skip_reason: skipReason } : {}),
    });
  }
}

function statusOf(failure: JobFailure | undefined): PhaseStatus {
  if (!failure) return "success";
  return failure.interruption === "canceled" || failure.interruption === "aborted" ? "canceled" : "failed";
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
