import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PhaseRecord } from "../job-recorder.ts";
import type { JobSummary, RunSummary } from "../run-record.ts";

/** One job as the pipeline page shows it: its place, its state, its phases, what it kept. */
export interface PageJob {
  readonly name: string;
  readonly stage: string;
  /** `running` and `pending` too, while a run goes. */
  readonly status: string;
  readonly allowFailure: boolean;
  readonly durationMs?: number;
  readonly needs?: readonly string[];
  readonly why?: string;
  readonly retried?: boolean;
  readonly failedPhase?: string;
  readonly coverage?: number;
  readonly withIssues?: boolean;
  readonly issues?: JobSummary["issues"];
  readonly phases: readonly PhaseRecord[];
  /** Its folder in the run record (traces and artifacts are found under it). */
  readonly dir?: string;
  /** Files kept in its `artifacts/` folder, relative to it. */
  readonly artifacts: readonly string[];
}

export interface PageState {
  readonly runId: string;
  readonly status: string;
  readonly warnings: boolean;
  readonly createdAt: string;
  readonly stages: readonly string[];
  readonly jobs: readonly PageJob[];
  /** The run still goes: the page follows it. */
  readonly live: boolean;
  /** Where the run record is, as a URL (a written page links its artifacts there). */
  readonly base?: string;
}

/** A job the run will run, before the record knows it (the live page's plan). */
export interface PlannedPageJob {
  readonly name: string;
  readonly stage: string;
  readonly allowFailure: boolean;
  readonly needs?: readonly string[];
  readonly slug: string;
}

/**
 * The page's state from a run record (`.runner/runs/<id>`): the run's summary once it has ended;
 * while it goes, the plan with what each job's folder says so far (its events).
 */
export function readPageState(runDir: string, plan?: readonly PlannedPageJob[], stages?: readonly string[]): PageState {
  const runFile = join(runDir, "summary.json");
  if (existsSync(runFile)) {
    const run = JSON.parse(readFileSync(runFile, "utf8")) as RunSummary;
    const jobs = run.jobs.map((j) => {
      const summary = JSON.parse(readFileSync(join(runDir, j.dir, "summary.json"), "utf8")) as JobSummary;
      return fromSummary(summary, j.dir, runDir, j.retried === true);
    });
    return { runId: run.run_id, status: run.pipeline_status, warnings: run.warnings, createdAt: run.created_at, stages: stagesOf(jobs, run.stages), jobs, live: false };
  }
  const jobs = (plan ?? []).map((p): PageJob => {
    const dir = join(runDir, p.slug);
    if (existsSync(join(dir, "summary.json"))) return fromSummary(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")), p.slug, runDir, false);
    const base = { name: p.name, stage: p.stage, allowFailure: p.allowFailure, ...(p.needs ? { needs: p.needs } : {}), artifacts: [] };
    if (!existsSync(join(dir, "events.jsonl"))) return { ...base, status: "pending", phases: [] };
    return { ...base, status: "running", phases: phasesSoFar(join(dir, "events.jsonl")), dir: p.slug };
  });
  const runId = runDir.split("/").pop() ?? "";
  return { runId, status: "running", warnings: false, createdAt: new Date(statSync(runDir).birthtimeMs || Date.now()).toISOString(), stages: stagesOf(jobs, stages), jobs, live: true };
}

function fromSummary(s: JobSummary, dir: string, runDir: string, retried: boolean): PageJob {
  return {
    name: s.job, stage: s.stage, status: s.status, allowFailure: s.allow_failure, phases: s.phases, dir,
    ...(s.status !== "skipped" && s.status !== "manual" ? { durationMs: s.duration_ms } : {}),
    ...(s.needs ? { needs: s.needs } : {}),
    ...(s.skip_reason ? { why: s.skip_reason } : s.failure_reason ? { why: `${s.failure_reason}${s.exit_code ? ` (exit code ${s.exit_code})` : ""}` } : {}),
    ...(retried ? { retried: true } : {}), ...(s.failed_phase ? { failedPhase: s.failed_phase } : {}),
    ...(s.coverage !== undefined ? { coverage: s.coverage } : {}), ...(s.with_issues ? { withIssues: true } : {}),
    ...(s.issues ? { issues: s.issues } : {}),
    artifacts: listFiles(join(runDir, dir, "artifacts")),
  };
}

/** The phases a running job's events tell of: finished ones, and the one it is in. */
function phasesSoFar(events: string): PhaseRecord[] {
  const phases: PhaseRecord[] = [];
  const open = new Map<string, { started_at: string; index?: number; command?: string }>();
  for (const line of readFileSync(events, "utf8").split("\n")) {
    if (!line) continue;
    const e = JSON.parse(line) as { type: string; phase?: string; time: string; status?: string; duration_ms?: number; index?: number; command?: string };
    const key = `${e.phase}#${e.index ?? ""}`;
    if (e.type === "phase.start") open.set(key, { started_at: e.time, ...(e.index ? { index: e.index } : {}), ...(e.command ? { command: e.command } : {}) });
    if (e.type === "phase.finish") {
      const started = open.get(key);
      open.delete(key);
      phases.push({ phase: e.phase as never, status: e.status as never, started_at: started?.started_at ?? e.time, duration_ms: e.duration_ms ?? 0, trace: { start: 0, end: 0 }, ...(started?.index ? { index: started.index } : {}), ...(started?.command ? { command: started.command } : {}) });
    }
  }
  for (const [key, o] of open) phases.push({ phase: key.split("#")[0] as never, status: "running" as never, started_at: o.started_at, duration_ms: Date.now() - Date.parse(o.started_at), trace: { start: 0, end: 0 }, ...(o.index ? { index: o.index } : {}) });
  return phases;
}

/** The pipeline's stages that have jobs, in its order (else in the jobs' order). */
function stagesOf(jobs: readonly PageJob[], order: readonly string[] = []): string[] {
  const used = new Set(jobs.map((j) => j.stage));
  return [...new Set([...order.filter((s) => used.has(s)), ...used])];
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}
