import { appendFileSync, closeSync, mkdirSync, openSync, renameSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { JobFailure } from "../protocol/job-failure.ts";
import type { TraceSink } from "../trace/job-trace.ts";
import { maskerFactory } from "../trace/masking.ts";
import type { StreamFilter } from "../trace/stream-filter.ts";
import { compositeStatus, latestAttempts, type PipelineStatus } from "./composite-status.ts";
import { JobRecorder, type PhaseRecord } from "./job-recorder.ts";
import type { PhaseCode, RecordEvent } from "./phases.ts";
import type { JobIssue } from "../trace/job-commands/trace-commands.ts";

/** summary.json of one job. */
export interface JobSummary {
  readonly job: string;
  readonly stage: string;
  readonly status: string;
  readonly allow_failure: boolean;
  readonly exit_code?: number;
  readonly failure_reason?: string;
  readonly failed_phase?: PhaseCode;
  /** The job's `coverage`, as GitLab reads it from the trace. */
  readonly coverage?: number;
  /** What the job's script raised with job commands. */
  readonly issues?: readonly JobIssue[];
  readonly with_issues?: true;
  /** The jobs it waits for by name (`needs:`); none: every job of the earlier stages. */
  readonly needs?: readonly string[];
  /** Why it did not run (skipped, manual). */
  readonly skip_reason?: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  readonly phases: readonly PhaseRecord[];
}

/** summary.json of a run. */
export interface RunSummary {
  readonly run_id: string;
  readonly created_at: string;
  readonly finished_at: string;
  /** GitLab's composite status of the latest attempts: `success` (warnings when an allowed failure), `failed`, `canceled`, `skipped`. */
  readonly pipeline_status: PipelineStatus;
  readonly warnings: boolean;
  /** The pipeline's stages, in order. */
  readonly stages?: readonly string[];
  readonly jobs: readonly {
    readonly job: string; readonly stage: string; readonly status: string; readonly allow_failure: boolean;
    readonly duration_ms: number; readonly failed_phase?: PhaseCode; readonly coverage?: number; readonly dir: string;
    /** An attempt a later retry replaced: it no longer counts for the pipeline's status. */
    readonly retried?: true;
  }[];
}

export const RECORD_FILES = ["summary.json", "manifest.json", "events.jsonl", "trace.log"] as const;

/** One job's files in a run record, and the recorder that fills them. */
export interface JobRecordFiles {
  /** The job's folder in the record. */
  readonly dir: string;
  readonly recorder: JobRecorder;
  /** Takes the job's masked trace for trace.log. */
  readonly traceSink: TraceSink;
  /**
   * Why the job's files stopped taking its events or trace (a full disk), if they did: from then on
   * they are not written, and the job runs on (its output is still read to its end).
   */
  refusal(): string | undefined;
  /** Writes summary.json and manifest.json once the job has ended. */
  /** `allowFailure` overrides the job's when it is decided at the end (`allow_failure: exit_codes`). */
  finish(outcome: {
    status: string; failure?: JobFailure; skipReason?: string; allowFailure?: boolean; coverage?: number;
    issues?: readonly JobIssue[]; withIssues?: boolean;
  }): JobSummary;
}

/**
 * The record a run leaves in `<dir>/<run id>/`: per job its events as they happen (events.jsonl),
 * its masked trace (trace.log), and at its end summary.json and manifest.json; per run a summary.json.
 * `<dir>/latest` points at the newest run. Every text that could hold a secret goes through the
 * job's masker first.
 */
export class RunRecord {
  readonly dir: string;
  readonly runId: string;
  readonly #root: string;
  readonly #created = new Date();
  readonly #jobs: JobSummary[] = [];
  /** Each finished job's folder in the record. */
  readonly #dirs = new Map<JobSummary, string>();
  readonly #onEvent: ((event: RecordEvent) => void) | undefined;

  readonly #stages: readonly string[] | undefined;

  /** `stages`: the pipeline's, in order (the page draws its columns so). */
  constructor(root: string, options: { onEvent?: (event: RecordEvent) => void; runId?: string; stages?: readonly string[] } = {}) {
    this.#stages = options.stages;
    this.#root = root;
    this.runId = options.runId ?? `${this.#created.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${process.pid}`;
    this.dir = join(root, this.runId);
    this.#onEvent = options.onEvent;
    mkdirSync(this.dir, { recursive: true });
  }

  /** The files and recorder of one job. */
  job(options: {
    name: string; slug: string; stage: string; allowFailure: boolean;
    commands: readonly string[]; maskedPhrases: readonly string[];
    /** `needs:` of the job (the jobs it waits for by name), for the pipeline page's lines. */
    needs?: readonly string[];
  }): JobRecordFiles {
    const dir = join(this.dir, options.slug);
    mkdirSync(dir, { recursive: true });
    const eventsFile = join(dir, "events.jsonl");
    // Open for the job's whole run: a job writes a dozen events or more, each was an open and a close.
    let eventsFd: number | undefined = openSync(eventsFile, "a");
    // A mask a job command adds (##vso[task.setsecret]) joins these for what is recorded after it.
    const phrases = [...options.maskedPhrases];
    // One phrase search for every command shown, made anew only when a phrase is added (with
    // thousands of masked values it costs ~200 ms to make).
    let maskers: (() => StreamFilter) | undefined;
    const mask = (text: string) => {
      const masker = (maskers ??= maskerFactory({ phrases }))();
      return new TextDecoder().decode(Buffer.concat([masker.write(new TextEncoder().encode(text)), masker.end()]));
    };
    const disk = firstRefusal();
    const recorder = new JobRecorder({
      job: options.name,
      addMask: (phrase) => {
        phrases.push(phrase);
        maskers = undefined;
      },
      commands: (index) => {
        const command = options.commands[index - 1];
        return command === undefined ? undefined : mask(command);
      },
      emit: (event) => {
        const line = `${JSON.stringify(event)}\n`;
        disk.attempt(() => (eventsFd === undefined ? appendFileSync(eventsFile, line) : writeSync(eventsFd, line)));
        this.#onEvent?.(event);
      },
    });
    const traceFd = openSync(join(dir, "trace.log"), "w", 0o600);
    let traceOpen = true;
    return {
      dir,
      recorder,
      traceSink: { write: (bytes) => void (traceOpen && disk.attempt(() => writeSync(traceFd, bytes))) },
      refusal: () => disk.reason,
      finish: (outcome) => {
        if (traceOpen) {
          closeSync(traceFd);
          traceOpen = false;
        }
        const summary = writeJobFiles(dir, options, recorder, outcome);
        if (eventsFd !== undefined) closeSync(eventsFd);
        eventsFd = undefined;
        this.#jobs.push(summary);
        this.#dirs.set(summary, options.slug);
        return summary;
      },
    };
  }

  /** Writes the run's summary.json and points `latest` at this run. */
  finish(): RunSummary {
    const latest = new Set(latestAttempts(this.#jobs));
    const { status, warnings } = compositeStatus([...latest]);
    const summary: RunSummary = {
      run_id: this.runId, created_at: this.#created.toISOString(), finished_at: new Date().toISOString(),
      pipeline_status: status,
      warnings,
      ...(this.#stages ? { stages: this.#stages } : {}),
      jobs: this.#jobs.map((j) => ({
        job: j.job, stage: j.stage, status: j.status, allow_failure: j.allow_failure, duration_ms: j.duration_ms,
        ...(j.failed_phase ? { failed_phase: j.failed_phase } : {}), ...(j.coverage !== undefined ? { coverage: j.coverage } : {}),
        dir: this.#dirs.get(j) ?? "",
        ...(latest.has(j) ? {} : { retried: true }),
      })),
    };
    writeJson(join(this.dir, "summary.json"), summary);
    const link = join(this.#root, "latest");
    const temporary = `${link}.${process.pid}`;
    try {
      symlinkSync(this.runId, temporary);
      renameSync(temporary, link);
    } catch {
      // A file system without symbolic links keeps the run without the pointer.
    }
    return summary;
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** A finished job's summary.json and manifest.json; returns the summary. */
function writeJobFiles(dir: string, options: { name: string; stage: string; allowFailure: boolean; needs?: readonly string[] }, recorder: JobRecorder, outcome: Parameters<JobRecordFiles["finish"]>[0]): JobSummary {
  const { failedPhase } = recorder.finish(outcome);
  const phases = recorder.phases;
  const started = phases.reduce((min, p) => (p.started_at < min ? p.started_at : min), new Date().toISOString());
  const finished = new Date();
  const failure = outcome.failure;
  const summary: JobSummary = {
    job: options.name, stage: options.stage, status: outcome.status, allow_failure: outcome.allowFailure ?? options.allowFailure,
    ...(failure?.exitCode ? { exit_code: failure.exitCode } : {}),
    ...(failure ? { failure_reason: failure.failureReason } : {}),
    ...(failedPhase ? { failed_phase: failedPhase } : {}),
    ...(outcome.coverage !== undefined ? { coverage: outcome.coverage } : {}),
    ...(outcome.issues?.length ? { issues: outcome.issues } : {}),
    ...(options.needs ? { needs: options.needs } : {}),
    ...(outcome.skipReason ? { skip_reason: outcome.skipReason } : {}),
    ...(outcome.withIssues ? { with_issues: true as const } : {}),
    started_at: started, finished_at: finished.toISOString(),
    duration_ms: Math.max(0, finished.getTime() - Date.parse(started)), phases,
  };
  writeJson(join(dir, "summary.json"), summary);
  writeJson(join(dir, "manifest.json"), {
    job: options.name,
    files: [...RECORD_FILES],
    phases: phases.map((p) => ({
      phase: p.phase, status: p.status, ...(p.index !== undefined ? { index: p.index } : {}),
      trace: { file: "trace.log", start: p.trace.start, end: p.trace.end },
    })),
  });
  return summary;
}

/**
 * Writes until the disk refuses one (a full disk, a file-size limit), then none: thrown, the refusal
 * stopped the reading of a stage's output, whose shell then blocked for ever. `reason` says why.
 */
function firstRefusal(): { attempt(write: () => unknown): void; readonly reason: string | undefined } {
  let reason: string | undefined;
  return {
    attempt(write) {
      if (reason !== undefined) return;
      try {
        write();
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
    },
    get reason() {
      return reason;
    },
  };
}
