import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createShellExecutor } from "../../src/executors/shell/shell-executor.ts";
import type { JobResponse, JobStep, JobVariable } from "../../src/protocol/types.ts";
import type { SourceProvider } from "../../src/steps/context.ts";
import { abortReason, cancelReason } from "../../src/protocol/job-failure.ts";
import { runJob, type JobOutcome, type JobSignals } from "../../src/steps/run-job.ts";

/** A job payload as GitLab would send it, with the given script and overrides. */
export function makeJob(script: readonly string[], overrides: Partial<JobResponse> & { afterScript?: string[] } = {}): JobResponse {
  const { afterScript, ...rest } = overrides;
  const steps: JobStep[] = [{ name: "script", script, timeout: 3600, when: "on_success", allow_failure: false }];
  if (afterScript) steps.push({ name: "after_script", script: afterScript, timeout: 3600, when: "always", allow_failure: true });
  return {
    id: 4711,
    token: "glcbt-64_testtoken",
    allow_git_fetch: false,
    job_info: { name: "test-job", stage: "test", project_id: 1, project_name: "widget" },
    git_info: {
      repo_url: "file:///nonexistent", ref: "main", sha: "0000000000000000000000000000000000000000",
      before_sha: "0000000000000000000000000000000000000000", ref_type: "branch", refspecs: [], depth: 0,
    },
    runner_info: { timeout: 3600 },
    variables: [{ key: "GIT_STRATEGY", value: "none", public: true }],
    steps,
    features: { trace_sections: true, failure_reasons: ["script_failure", "job_execution_timeout"] },
    ...rest,
  };
}

export function variable(key: string, value: string, extra: Partial<JobVariable> = {}): JobVariable {
  return { key, value, public: true, masked: false, ...extra };
}

/** Signals that a test can trigger. */
export function testSignals(): JobSignals & { cancel_(): void; abort_(): void } {
  const cancel = new AbortController();
  const abort = new AbortController();
  const grace = new AbortController();
  return {
    cancel: cancel.signal, abort: abort.signal, grace: grace.signal,
    cancel_: () => cancel.abort(cancelReason()),
    abort_: () => abort.abort(abortReason()),
  };
}

/** Runs `job` on a shell executor in a fresh builds directory; returns its outcome and plain trace. */
export async function runShellJob(
  job: JobResponse,
  options: {
    signals?: JobSignals; sources?: SourceProvider; buildsDir?: string; onTrace?: (text: string) => void; shell?: "bash" | "sh";
    featureFlags?: Record<string, boolean>;
  } = {},
): Promise<{ outcome: JobOutcome; trace: string; raw: string; buildsDir: string; projectDir: string }> {
  const buildsDir = options.buildsDir ?? mkdtempSync(join(tmpdir(), "runner-job-"));
  const projectDir = join(buildsDir, "acme", "widget");
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const outcome = await runJob({
    job,
    executor: createShellExecutor({
      shell: options.shell ?? "bash", hostEnv: process.env, graceMs: 500,
      directories: { buildsDir, projectDir, tmpDir: `${projectDir}.tmp` },
    }),
    sink: {
      write: (bytes) => {
        const text = decoder.decode(bytes, { stream: true });
        chunks.push(text);
        options.onTrace?.(chunks.join(""));
      },
    },
    sources: options.sources ?? { kind: "git" },
    settings: { userAgent: "runner test" },
    runner: { name: "test runner" },
    signals: options.signals ?? testSignals(),
    ...(options.featureFlags ? { featureFlags: options.featureFlags } : {}),
  });
  const raw = chunks.join("");
  return { outcome, raw, trace: plain(raw), buildsDir, projectDir };
}

/** The trace without colours and section markers. */
export function plain(raw: string): string {
  return raw
    .replace(/section_(?:start|end):\d+:[a-z_]+\r\x1b\[0K/g, "")
    .replace(/\x1b\[[0-9;]*[mK]/g, "");
}
