import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createShellExecutor } from "../../src/executors/shell/shell-executor.ts";
import { JobProcesses } from "../../src/shell/job-processes.ts";
import { livingMembers } from "../../src/shell/supervisor.ts";
import { runJob } from "../../src/steps/run-job.ts";
import { makeJob, runShellJob, testSignals, variable } from "../helpers/job.ts";

describe("a job on the shell executor", () => {
  test("a passing job writes GitLab's stages in order and ends with Job succeeded", async () => {
    const { outcome, trace, raw } = await runShellJob(makeJob(["echo hello"]));
    expect(outcome.status).toBe("success");
    expect(outcome.failure).toBeUndefined();
    const lines = trace.split("\n");
    expect(lines.slice(0, 4)).toEqual([
      expect.stringMatching(/^Running with runner \S+ \(\S+\)$/),
      "  on test runner",
      'Preparing the "shell" executor',
      "Using Shell (bash) executor...",
    ]);
    expect(trace).toContain('Executing "step_script" stage of the job script\n$ echo hello\nhello\n');
    expect(trace.endsWith("Cleaning up project directory and file based variables\nJob succeeded\n")).toBe(true);
    const sections = [...raw.matchAll(/section_start:\d+:([a-z_]+)/g)].map((m) => m[1]);
    expect(sections).toEqual(["prepare_executor", "prepare_script", "get_sources", "step_script", "cleanup_file_variables"]);
  });

  test("stages with nothing to do print nothing", async () => {
    const { raw } = await runShellJob(makeJob(["true"]));
    for (const stage of ["restore_cache", "download_artifacts", "after_script", "archive_cache", "upload_artifacts"]) {
      expect(raw).not.toContain(stage);
    }
  });

  test("a failing script fails the job with its exit code and skips the rest of the script", async () => {
    const { outcome, trace } = await runShellJob(makeJob(["echo before", "exit 3", "echo after"]));
    expect(outcome.status).toBe("failed");
    expect(outcome.failure).toMatchObject({ failureReason: "script_failure", exitCode: 3 });
    expect(trace).not.toContain("\nafter\n");
    expect(trace.endsWith("ERROR: Job failed: exit status 3\n")).toBe(true);
  });

  test("after_script sees CI_JOB_STATUS, runs in a fresh shell, and its failure only warns", async () => {
    const job = makeJob(["export FROM_SCRIPT=leaked", "exit 2"], {
      afterScript: ['echo "status=$CI_JOB_STATUS from=${FROM_SCRIPT:-none}"', "exit 9"],
    });
    const { outcome, trace } = await runShellJob(job);
    expect(outcome.failure?.exitCode).toBe(2);
    expect(trace).toContain("Running after_script\nRunning after script...\n");
    expect(trace).toContain("status=failed from=none\n");
    expect(trace).toContain("WARNING: after_script failed, but job will continue unaffected: exit status 9\n");
  });

  test("after_script of a passing job sees success", async () => {
    const { trace, outcome } = await runShellJob(makeJob(["true"], { afterScript: ["echo status=$CI_JOB_STATUS"] }));
    expect(outcome.status).toBe("success");
    expect(trace).toContain("status=success\n");
  });

  test("the job timeout stops the script, fails with job_execution_timeout, and skips after_script", async () => {
    const job = makeJob(["sleep 30"], { runner_info: { timeout: 1 }, afterScript: ["echo after-ran"] });
    const started = performance.now();
    const { outcome, trace } = await runShellJob(job);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(outcome.failure).toMatchObject({ failureReason: "job_execution_timeout", interruption: "timeout" });
    expect(trace).toContain("ERROR: Job failed: execution took longer than 1s seconds\n");
    expect(trace).not.toContain("after-ran");
  });

  test("cancel stops the script, runs after_script with canceled, and leaves no process", async () => {
    const signals = testSignals();
    let pgid = 0;
    const job = makeJob(['echo "pgid $(ps -o pgid= $$)"', "sleep 60 & sleep 61"], {
      afterScript: ["echo after=$CI_JOB_STATUS"],
    });
    const { outcome, trace } = await runShellJob(job, {
      signals,
      onTrace: (text) => {
        const match = /pgid\s+(\d+)/.exec(text);
        if (match && pgid === 0) {
          pgid = Number(match[1]);
          setTimeout(() => signals.cancel_(), 100);
        }
      },
    });
    expect(pgid).toBeGreaterThan(0);
    expect(livingMembers(pgid)).toEqual([]);
    expect(outcome.status).toBe("canceled");
    expect(outcome.failure?.failureReason).toBe("job_canceled");
    expect(trace).toContain("after=canceled\n");
    expect(trace.endsWith("ERROR: Job failed: canceled\n")).toBe(true);
  });

  test("abort stops everything but cleanup", async () => {
    const signals = testSignals();
    const job = makeJob(["echo started", "sleep 60"], { afterScript: ["echo after-ran"] });
    const { outcome, trace } = await runShellJob(job, {
      signals,
      onTrace: (text) => {
        if (text.includes("started\n")) signals.abort_();
      },
    });
    expect(outcome.failure?.interruption).toBe("aborted");
    expect(trace).not.toContain("after-ran");
    expect(trace).toContain("Cleaning up project directory and file based variables");
  });

  test("masked variables never reach the trace, even when split across output", async () => {
    const job = makeJob(['printf "%s" "$SECRET" | fold -w 3', 'echo "$SECRET"', "echo glpat-abcdefXYZ"], {
      variables: [variable("GIT_STRATEGY", "none"), variable("SECRET", "s3cr3t-Pa55w0rd", { masked: true })],
    });
    const { raw } = await runShellJob(job);
    expect(raw).not.toContain("s3cr3t-Pa55w0rd");
    expect(raw).toContain("[MASKED]");
    expect(raw).toContain("glpat-[MASKED]");
  });

  test("file variables are written 0600 for the job and removed by cleanup_file_variables", async () => {
    const job = makeJob(['stat -c "%a" "$CONFIG_FILE"', 'cat "$CONFIG_FILE"', 'echo "path=$CONFIG_FILE"'], {
      variables: [variable("GIT_STRATEGY", "none"), variable("CONFIG_FILE", "key: value", { file: true })],
    });
    const { trace, projectDir } = await runShellJob(job);
    expect(trace).toContain('$ stat -c "%a" "$CONFIG_FILE"\n600\n$ cat "$CONFIG_FILE"\nkey: value');
    expect(trace).toContain(`path=${projectDir}.tmp/CONFIG_FILE\n`);
    expect(existsSync(`${projectDir}.tmp`)).toBe(false);
  });

  test("variables are expanded as GitLab Runner does: $VAR, ${VAR}, $$, raw and file references", async () => {
    const job = makeJob(['echo "a=$A b=$B c=$C d=$D e=$E"'], {
      variables: [
        variable("GIT_STRATEGY", "none"),
        variable("BASE", "base"),
        variable("A", "$BASE-x"),
        variable("B", "${BASE}y$$"),
        variable("C", "$BASE ${UNDEFINED}z"),
        variable("D", "$BASE", { raw: true }),
        variable("F", "content", { file: true }),
        variable("E", "$F"),
      ],
    });
    const { trace, projectDir } = await runShellJob(job);
    expect(trace).toContain(`a=base-x b=basey$ c=base z d=$BASE e=${projectDir}.tmp/F\n`);
  });

  test("the job sees the runner's variables and can override the directory ones", async () => {
    const job = makeJob(['echo "dir=$CI_PROJECT_DIR server=$CI_SERVER shared=$CI_SHARED_ENVIRONMENT pwd=$(pwd)"'], {
      variables: [variable("GIT_STRATEGY", "none")],
    });
    const { trace, projectDir } = await runShellJob(job);
    expect(trace).toContain(`dir=${projectDir} server=yes shared=true pwd=${projectDir}\n`);
  });

  test("the job does not see the runner's own environment", async () => {
    process.env.RUNNER_TEST_LEAK = "should-not-leak";
    try {
      const { trace } = await runShellJob(makeJob(['echo "leak=${RUNNER_TEST_LEAK:-none}"']));
      expect(trace).toContain("leak=none\n");
    } finally {
      delete process.env.RUNNER_TEST_LEAK;
    }
  });

  test("GIT_STRATEGY empty leaves an empty project directory", async () => {
    const job = makeJob(["ls -A | wc -l"], { variables: [variable("GIT_STRATEGY", "empty")] });
    const first = await runShellJob(job);
    expect(first.trace).toContain("Skipping Git repository setup and creating an empty build directory");
    expect(readdirSync(first.projectDir)).toEqual([]);
  });

  test("an unknown GIT_SUBMODULE_STRATEGY fails the job as a configuration error", async () => {
    const job = makeJob(["true"], {
      variables: [variable("GIT_STRATEGY", "none"), variable("GIT_SUBMODULE_STRATEGY", "sideways")],
    });
    const { outcome, trace } = await runShellJob(job);
    expect(outcome.failure?.failureReason).toBe("configuration_error");
    expect(trace).toContain("ERROR: Job failed: unknown GIT_SUBMODULE_STRATEGY: sideways\n");
  });

  test("after_script has its own timeout, and running over it only warns", async () => {
    const job = makeJob(["echo main"], {
      afterScript: ["sleep 20"],
      variables: [variable("GIT_STRATEGY", "none"), variable("RUNNER_AFTER_SCRIPT_TIMEOUT", "1s")],
    });
    const started = performance.now();
    const { outcome, trace } = await runShellJob(job);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(outcome.status).toBe("success");
    expect(trace).toContain("WARNING: after_script failed, but job will continue unaffected: execution took longer than 1s seconds\n");
  });

  test("AFTER_SCRIPT_IGNORE_ERRORS=false makes an after_script failure fail the job", async () => {
    const job = makeJob(["true"], {
      afterScript: ["exit 5"],
      variables: [variable("GIT_STRATEGY", "none"), variable("AFTER_SCRIPT_IGNORE_ERRORS", "false")],
    });
    const { outcome } = await runShellJob(job);
    expect(outcome.failure).toMatchObject({ failureReason: "script_failure", exitCode: 5 });
  });

  test("a job runs the same under POSIX sh", async () => {
    const passing = await runShellJob(makeJob(['echo "in $0 with $CI_JOB_STATUS"'], { afterScript: ["echo after=$CI_JOB_STATUS"] }), { shell: "sh" });
    expect(passing.outcome.status).toBe("success");
    expect(passing.trace).toMatch(/in (sh|bash) with running\n/);
    expect(passing.trace).toContain("after=success\n");
    const failing = await runShellJob(makeJob(["exit 6"]), { shell: "sh" });
    expect(failing.outcome.failure?.exitCode).toBe(6);
  });
});

describe("a job whose trace cannot be set up", () => {
  // The shell executor starts its first shell when it is made (into the job's cgroup, ahead of
  // prepare_script): a job that fails before its steps must not leave that shell behind.
  test("still has its executor cleaned up: the shell started ahead is gone", async () => {
    const buildsDir = mkdtempSync(join(tmpdir(), "runner-job-"));
    const processes = new JobProcesses();
    const executor = createShellExecutor({
      shell: "bash", hostEnv: process.env, graceMs: 500, processes,
      directories: { buildsDir, projectDir: join(buildsDir, "p"), tmpDir: join(buildsDir, "p.tmp") },
    });
    await Bun.sleep(50);
    expect(processes.running([], true).length).toBeGreaterThan(0);
    const recorder = { start: () => { throw new Error("disk full"); } } as never;
    const run = runJob({
      job: makeJob(["true"]), executor, recorder, sink: { write: () => {} }, sources: { kind: "git" },
      settings: { userAgent: "runner test" }, runner: { name: "test runner" }, signals: testSignals(),
    });
    await expect(run).rejects.toThrow("disk full");
    expect(processes.running([], true)).toEqual([]);
  });
});
