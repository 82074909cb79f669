import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createShellExecutor } from "../../src/executors/shell/shell-executor.ts";
import { RunRecord, type JobSummary } from "../../src/record/run-record.ts";
import { SCHEMAS } from "../../src/record/schemas.ts";
import { runJob } from "../../src/steps/run-job.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { makeJob, testSignals, variable } from "../helpers/job.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validators = Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)]));

/** Validates every file of a run record against the shipped schemas; returns the errors. */
function validateRun(dir: string): string[] {
  const errors: string[] = [];
  const check = (name: string, value: unknown, where: string) => {
    if (!validators[name]!(value)) errors.push(`${where}: ${ajv.errorsText(validators[name]!.errors)}`);
  };
  const run = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  check("run-summary", run, "summary.json");
  for (const job of run.jobs) {
    check("job-summary", JSON.parse(readFileSync(join(dir, job.dir, "summary.json"), "utf8")), `${job.dir}/summary.json`);
    check("manifest", JSON.parse(readFileSync(join(dir, job.dir, "manifest.json"), "utf8")), `${job.dir}/manifest.json`);
    readFileSync(join(dir, job.dir, "events.jsonl"), "utf8").split("\n").filter(Boolean)
      .forEach((line, i) => check("event", JSON.parse(line), `${job.dir}/events.jsonl:${i + 1}`));
  }
  return errors;
}

function exec(pipeline: string) {
  const repo = makeRepository(1);
  writeFileSync(join(repo.work, ".gitlab-ci.yml"), pipeline);
  git(repo.work, "add", ".gitlab-ci.yml");
  git(repo.work, "commit", "-q", "-m", "ci");
  const result = Bun.spawnSync([BINARY, "exec"], { cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });
  const latest = join(repo.work, ".runner", "runs", "latest");
  const job = (name: string): JobSummary => JSON.parse(readFileSync(join(latest, name, "summary.json"), "utf8"));
  const events = (name: string) => readFileSync(join(latest, name, "events.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { code: result.exitCode, out: result.stdout.toString(), dir: realpathSync(latest), job, events, repo };
}

describe("the run record of runner exec", () => {
  test("a passing job: every phase it went through, one per script line, files that validate", () => {
    const { code, dir, job, events } = exec("build:\n  script:\n    - echo one\n    - echo two\n");
    expect(code).toBe(0);
    const summary = job("build");
    expect(summary).toMatchObject({ job: "build", stage: "test", status: "success", allow_failure: false });
    expect(summary.phases.map((p) => p.phase + (p.index ? `#${p.index}` : ""))).toEqual([
      "job.provider_prepare", "job.source_prepare", "execution.script#1", "execution.script#2", "job.execution", "job.cleanup",
    ]);
    expect(summary.phases.find((p) => p.index === 2)).toMatchObject({ command: "echo two", status: "success", exit_code: 0 });
    const trace = readFileSync(join(dir, "build", "trace.log"), "utf8");
    const line2 = summary.phases.find((p) => p.index === 2)!;
    expect(Buffer.from(trace).subarray(line2.trace.start, line2.trace.end).toString()).toContain("two\n");
    expect(events("build")[0]).toMatchObject({ type: "job.start", job: "build" });
    expect(events("build").at(-1)).toMatchObject({ type: "job.finish", status: "success" });
    expect(validateRun(dir)).toEqual([]);
    expect(existsSync(join(dir, "..", readdirSync(join(dir, "..")).find((n) => n !== "latest")!))).toBe(true);
  });

  test("a failing script line fails its phase; the lines after it leave nothing; a later job is skipped with its phases", () => {
    const { code, dir, job, events, out } = exec(
      "stages: [build, deploy]\nbuild:\n  stage: build\n  script: [echo a, exit 4, echo never]\ndeploy:\n  stage: deploy\n  script: [echo d]\n",
    );
    expect(code).toBe(1);
    const build = job("build");
    expect(build).toMatchObject({ status: "failed", exit_code: 4, failure_reason: "script_failure", failed_phase: "job.execution" });
    const lines = build.phases.filter((p) => p.phase === "execution.script");
    expect(lines.map((l) => [l.index, l.status, l.exit_code])).toEqual([[1, "success", 0], [2, "failed", 4]]);
    expect(events("build").some((e) => e.index === 3)).toBe(false);
    const deploy = job("deploy");
    expect(deploy.status).toBe("skipped");
    const reason = "a job it waits for failed (when: on_success)";
    expect(deploy.phases.map((p) => [p.phase, p.status, p.skip_reason])).toEqual([
      ["job.provider_prepare", "skipped", reason],
      ["job.execution", "skipped", reason],
      ["job.cleanup", "skipped", reason],
    ]);
    expect(out).toMatch(/failed\s+build\s+\S+\s+in job\.execution/);
    expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"))).toMatchObject({ pipeline_status: "failed" });
    expect(validateRun(dir)).toEqual([]);
  });

  test("a job skipped because its need failed still has a skipped job.cleanup; an unrelated job runs", () => {
    const { job, dir } = exec([
      "stages: [build, test]",
      "lib:\n  stage: build\n  script: [exit 1]",
      "app:\n  stage: build\n  script: [echo app]",
      "test-lib:\n  stage: test\n  needs: [lib]\n  script: [echo never]",
      "test-app:\n  stage: test\n  needs: [app]\n  script: [echo app-tested]",
    ].join("\n"));
    expect(job("test-lib").status).toBe("skipped");
    expect(job("test-lib").phases.find((p) => p.phase === "job.cleanup")).toMatchObject({ status: "skipped", skip_reason: "a job it waits for failed (when: on_success)" });
    expect(job("test-app").status).toBe("success");
    expect(validateRun(dir)).toEqual([]);
  });

  test("runner exec --json prints the events as JSON lines", () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), "j:\n  script: [echo json-out]\n");
    const result = Bun.spawnSync([BINARY, "exec", "--json"], { cwd: repo.work, env: { PATH: process.env.PATH! } });
    const lines = result.stdout.toString().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: "job.start", job: "j" });
    expect(lines.at(-1)).toMatchObject({ type: "job.finish", job: "j", status: "success" });
    expect(result.stdout.toString().split("\n")).not.toContain("json-out");
    for (const line of lines) expect(validators.event!(line)).toBe(true);
  });

  test("on a terminal a live status line names the running jobs; without one there is none", () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), "slowjob:\n  script: [sleep 0.5, echo done]\n");
    const log = join(repo.work, "tty.log");
    // script(1) runs the command on a pseudo-terminal and keeps what it printed.
    Bun.spawnSync(["script", "-q", "-c", `${BINARY} exec`, log], { cwd: repo.work, env: { PATH: process.env.PATH!, TERM: "xterm" } });
    const shown = readFileSync(log, "utf8");
    expect(shown).toMatch(/1 running: slowjob · \d+\.\ds/);
    expect(shown).toContain("\r\x1b[2K");
    const plain = Bun.spawnSync([BINARY, "exec"], { cwd: repo.work }).stdout.toString();
    expect(plain).not.toContain("running:");
  });

  test("runner show prints the table again; runner schema prints the shipped schemas", () => {
    const { repo } = exec("a:\n  script: [exit 2]\n");
    const shown = Bun.spawnSync([BINARY, "show"], { cwd: repo.work });
    expect(shown.exitCode).toBe(1);
    expect(shown.stdout.toString()).toMatch(/Run \S+: failed\n\n {2}failed\s+a\s+\S+s {2}in job\.execution: script_failure \(exit code 2\)/);
    const schema = Bun.spawnSync([BINARY, "schema", "event"]);
    expect(JSON.parse(schema.stdout.toString())).toEqual(SCHEMAS.event);
  });
});

describe("the record of coordinator-style jobs", () => {
  async function recorded(job: ReturnType<typeof makeJob>, options: { cacheDir?: string } = {}) {
    const root = mkdtempSync(join(tmpdir(), "runner-record-"));
    const record = new RunRecord(join(root, "runs"));
    const files = record.job({
      name: "job", slug: "job", stage: "test", allowFailure: false,
      commands: job.steps[0]!.script, maskedPhrases: job.variables.filter((v) => v.masked).map((v) => v.value),
    });
    const buildsDir = join(root, "builds");
    const outcome = await runJob({
      job, sink: files.traceSink, recorder: files.recorder, sources: { kind: "git" }, runner: { name: "t" }, signals: testSignals(),
      settings: { userAgent: "t", ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) },
      executor: createShellExecutor({ shell: "bash", hostEnv: process.env, directories: { buildsDir, projectDir: join(buildsDir, "p"), tmpDir: join(buildsDir, "p.tmp") } }),
    });
    const summary = files.finish({ status: outcome.status, ...(outcome.failure ? { failure: outcome.failure } : {}) });
    record.finish();
    return { summary, dir: record.dir };
  }

  test("a cache that may only be pulled shows job.cache_save skipped with `policy: pull`", async () => {
    const job = makeJob(["mkdir -p vendor", "touch vendor/x"], {
      cache: [{ key: "k", paths: ["vendor/"], policy: "pull", when: "on_success" }],
    });
    const { summary, dir } = await recorded(job, { cacheDir: mkdtempSync(join(tmpdir(), "runner-cache-")) });
    expect(summary.phases.find((p) => p.phase === "job.cache_save")).toMatchObject({ status: "skipped", skip_reason: "policy: pull" });
    expect(summary.phases.find((p) => p.phase === "job.cache_restore")).toMatchObject({ status: "success" });
    expect(validateRun(dir)).toEqual([]);
  });

  test("secrets appear in no file of the record, not even in a command line", async () => {
    const secret = "s3cr3t-Pa55w0rd-in-record";
    const job = makeJob([`echo "${secret}"`, 'echo "$MY_SECRET" | rev | rev', "echo glpat-0123456789abcdef"], {
      variables: [variable("GIT_STRATEGY", "none"), variable("MY_SECRET", secret, { masked: true })],
    });
    const { dir } = await recorded(job);
    const all = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes("."));
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const file of all) {
      const text = readFileSync(join(dir, file), "utf8");
      expect(text).not.toContain(secret);
      expect(text).not.toContain("0123456789abcdef");
    }
    expect(readFileSync(join(dir, "job", "events.jsonl"), "utf8")).toContain('"command":"echo \\"[MASKED]\\""');
  });
});
