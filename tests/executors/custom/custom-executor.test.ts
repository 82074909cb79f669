import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeGitLab } from "../../fake-gitlab/fake-gitlab.ts";
import { runNextJob, runnerConfig } from "../../helpers/next-job.ts";
import { parseProcStat } from "../../../src/shell/process-table.ts";

/**
 * GitLab Runner's custom executor (docs/executors/custom.md, executors/custom/custom.go and
 * command/command.go), driven by real driver scripts through a config.toml runner against the fake
 * GitLab.
 */
function driverDir(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-custom-driver-"));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

/** A driver that runs each stage script with bash on this machine, noting every call in calls.log. */
function localDriver(extra: Record<string, string> = {}): string {
  return driverDir({
    "config.sh": [
      'echo "config says hi" >&2',
      'echo "config $1" >> "$(dirname "$0")/calls.log"',
      'cat <<EOS\n{"builds_dir": "$(dirname "$0")/builds", "driver": {"name": "test driver", "version": "v1"}, "job_env": {"DRIVER_TOKEN": "from-config"}}\nEOS',
    ].join("\n"),
    "prepare.sh": [
      'echo "preparing job $CUSTOM_ENV_CI_JOB_ID token=$DRIVER_TOKEN"',
      'grep -q "\\"token\\"" "$JOB_RESPONSE_FILE" && echo "the job response is there"',
      'echo "prepare" >> "$(dirname "$0")/calls.log"',
    ].join("\n"),
    "run.sh": [
      'echo "run $2 $(basename "$1") tmp=$TMPDIR" >> "$(dirname "$0")/calls.log"',
      'bash "$1" || exit "$BUILD_FAILURE_EXIT_CODE"',
    ].join("\n"),
    "cleanup.sh": 'echo "cleanup $CUSTOM_ENV_CI_JOB_ID" >> "$(dirname "$0")/calls.log"',
    ...extra,
  });
}

function customRunner(fake: FakeGitLab, dir: string, custom: Record<string, unknown> = {}) {
  return runnerConfig(fake, {
    name: "custom", executor: "custom", builds_dir: join(dir, "configured-builds"), cache_dir: join(dir, "cache"),
    custom: {
      config_exec: join(dir, "config.sh"), config_args: ["first-arg"], prepare_exec: join(dir, "prepare.sh"),
      run_exec: join(dir, "run.sh"), cleanup_exec: join(dir, "cleanup.sh"), ...custom,
    },
  });
}

describe("the custom executor", () => {
  test("config, prepare, a run per stage (step_script as build_script), cleanup: each sees CUSTOM_ENV_*, job_env and the job response", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const dir = localDriver();
      const id = fake.enqueue(["echo \"in $CI_PROJECT_DIR with $MY_VAR\""], { variables: [{ key: "MY_VAR", value: "a-job-variable", public: true }] });
      const job = await runNextJob(fake, customRunner(fake, dir));
      const trace = job.trace.toString();
      expect(job.status, trace).toBe("success");
      expect(trace).toContain("Using Custom executor with driver test driver v1...");
      expect(trace).toContain("config says hi");
      expect(trace).toContain(`preparing job ${id} token=from-config`);
      expect(trace).toContain("the job response is there");
      // builds_dir from config_exec wins over [[runners]]'s.
      expect(trace).toMatch(new RegExp(`in ${dir}/builds/\\S+/widget with a-job-variable`));
      const calls = readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");
      expect(calls[0]).toBe("config first-arg");
      expect(calls[1]).toBe("prepare");
      const stages = calls.filter((c) => c.startsWith("run ")).map((c) => c.split(" ")[1]);
      expect(stages).toEqual(["prepare_script", "get_sources", "build_script", "cleanup_file_variables"]);
      expect(calls.filter((c) => c.startsWith("run ")).every((c) => / script\.sh tmp=\S*custom-executor/.test(c))).toBe(true);
      expect(calls.at(-1)).toBe(`cleanup ${id}`);
      // The runner's temporary directory (scripts, job response) is gone.
      const tmp = /tmp=(\S+)/.exec(calls.find((c) => c.startsWith("run "))!)![1]!;
      expect(existsSync(tmp)).toBe(false);
    } finally {
      await fake.stop();
    }
  }, 30_000);

  test("BUILD_FAILURE_EXIT_CODE fails the job as a script failure; SYSTEM_FAILURE_EXIT_CODE and unknown codes are system failures", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const dir = localDriver({
        "run-system.sh": 'if [ "$2" = get_sources ]; then exit "$SYSTEM_FAILURE_EXIT_CODE"; fi; bash "$1" || exit "$BUILD_FAILURE_EXIT_CODE"',
        "run-unknown.sh": 'if [ "$2" = build_script ]; then exit 7; fi; bash "$1" || exit "$BUILD_FAILURE_EXIT_CODE"',
      });
      fake.enqueue(["exit 3"]);
      const script = await runNextJob(fake, customRunner(fake, dir));
      expect(script, script.trace.toString()).toMatchObject({ status: "failed", failureReason: "script_failure" });
      expect(script.trace.toString()).toContain("ERROR: Job failed: exit status 1");
      fake.enqueue(["echo never"]);
      const system = await runNextJob(fake, customRunner(fake, dir, { run_exec: join(dir, "run-system.sh") }));
      expect(system).toMatchObject({ status: "failed", failureReason: "runner_system_failure" });
      expect(system.trace.toString()).toContain("ERROR: Job failed (system failure): run_exec: exit status 2");
      expect(system.trace.toString()).not.toContain("never");
      fake.enqueue(["echo never"]);
      const unknown = await runNextJob(fake, customRunner(fake, dir, { run_exec: join(dir, "run-unknown.sh") }));
      expect(unknown).toMatchObject({ status: "failed", failureReason: "runner_system_failure" });
      expect(unknown.trace.toString()).toContain("unknown Custom executor executable exit code 7; executable execution terminated with: exit status 7");
      // cleanup_exec ran after every one of them.
      expect(readFileSync(join(dir, "calls.log"), "utf8").match(/^cleanup /gm)?.length).toBe(3);
    } finally {
      await fake.stop();
    }
  }, 30_000);

  test("prepare_exec_timeout stops the driver's whole process group; a failing cleanup_exec does not change the job", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const dir = localDriver({
        "slow-prepare.sh": 'sleep 30 & echo $! > "$(dirname "$0")/child.pid"; wait',
        "failing-cleanup.sh": 'echo "cannot clean" >&2; exit 2',
      });
      fake.enqueue(["echo never"]);
      const started = Date.now();
      const slow = await runNextJob(fake, customRunner(fake, dir, { prepare_exec: join(dir, "slow-prepare.sh"), prepare_exec_timeout: 1, graceful_kill_timeout: 1 }));
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(slow).toMatchObject({ status: "failed", failureReason: "runner_system_failure" });
      expect(slow.trace.toString()).toContain("prepare_exec: no end after 1 s");
      // The driver's background child went with it (gone, or a zombie waiting for its reaper).
      const child = Number(readFileSync(join(dir, "child.pid"), "utf8"));
      const stat = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, "latin1") : undefined;
      expect(stat === undefined || parseProcStat(stat).zombie).toBe(true);
      fake.enqueue(["echo fine"]);
      const cleaned = await runNextJob(fake, customRunner(fake, dir, { cleanup_exec: join(dir, "failing-cleanup.sh") }));
      expect(cleaned.status, cleaned.trace.toString()).toBe("success");
      expect(cleaned.trace.toString()).toContain("WARNING: Cleanup script failed: exit status 2: cannot clean");
    } finally {
      await fake.stop();
    }
  }, 30_000);

  test("what [runners.custom] lacks is a configuration error that names it; config_exec output that is no JSON fails the job", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const dir = localDriver({ "bad-config.sh": "echo 'not json'" });
      fake.enqueue(["echo never"]);
      const missing = await runNextJob(fake, customRunner(fake, dir, { run_exec: undefined }));
      expect(missing.status).toBe("failed");
      expect(missing.trace.toString()).toContain("custom executor is missing RunExec: set [runners.custom] run_exec");
      fake.enqueue(["echo never"]);
      const badJson = await runNextJob(fake, customRunner(fake, dir, { config_exec: join(dir, "bad-config.sh") }));
      expect(badJson).toMatchObject({ status: "failed", failureReason: "runner_system_failure" });
      expect(badJson.trace.toString()).toContain("error while parsing JSON output:");
    } finally {
      await fake.stop();
    }
  }, 30_000);
});
