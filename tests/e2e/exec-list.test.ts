import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { git, makeRepository } from "../helpers/git-fixture.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
beforeAll(() => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
});

const PIPELINE = `
stages: [build, test, deploy]
build: { stage: build, script: echo build }
test: { stage: test, script: echo test }
lint: { stage: test, needs: [], script: echo lint, allow_failure: true }
deploy:
  stage: deploy
  needs: [build]
  script: echo deploy
  rules:
    - if: $CI_COMMIT_BRANCH == "production"
`;

function project(pipeline: string): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-list-"));
  writeFileSync(join(dir, ".gitlab-ci.yml"), pipeline);
  return dir;
}
const exec = (dir: string, ...args: string[]) =>
  Bun.spawnSync([BINARY, "exec", "--no-color", ...args], { cwd: dir, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });

describe("dist/runner exec: planning commands and retry", () => {
  test("--list shows each job's stage, when, needs, and why a job is left out; nothing runs", () => {
    const dir = project(PIPELINE);
    const run = exec(dir, "--list");
    expect(run.exitCode).toBe(0);
    const out = run.stdout.toString();
    expect(out).toMatch(/^name +stage +when +allow_failure +needs/);
    expect(out).toMatch(/\nbuild +build +on_success +false +\(earlier stages\)\n/);
    expect(out).toMatch(/\nlint +test +on_success +true +\[\] \(starts at once\)\n/);
    expect(out).toMatch(/\ndeploy +deploy +- +- +not running: no rule matched\n/);
    expect(existsSync(join(dir, ".runner", "runs"))).toBe(false);
  });

  test("keywords without a local effect are named on stderr, the listing stays clean", () => {
    const run = exec(project("a: { script: x, tags: [docker] }\n"), "--list-json");
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout.toString())).toEqual([{ name: "a", stage: "test", when: "on_success", allowFailure: false }]);
    expect(run.stderr.toString()).toBe("Warning: tags has no effect in a local run (tags choose a runner; every job runs here): a\n");
  });

  test("--list-json gives the same rows as JSON", () => {
    const run = exec(project(PIPELINE), "--list-json");
    expect(run.exitCode).toBe(0);
    const rows = JSON.parse(run.stdout.toString());
    expect(rows.map((r: { name: string }) => r.name)).toEqual(["build", "test", "lint", "deploy"]);
    expect(rows[2]).toEqual({ name: "lint", stage: "test", when: "on_success", allowFailure: true, needs: [] });
    expect(rows[3]).toMatchObject({ name: "deploy", excluded: "no rule matched" });
  });

  test("--dry-run plans and validates, runs nothing; a bad pipeline is still bad input", () => {
    const dir = project(PIPELINE);
    const run = exec(dir, "--dry-run");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toBe("3 jobs would run: build, test, lint\n");
    expect(run.stderr.toString()).toContain("Not running deploy: no rule matched");
    expect(existsSync(join(dir, ".runner", "runs"))).toBe(false);
    const bad = exec(project("a:\n  stage: nowhere\n  script: x\n"), "--dry-run");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("chosen stage nowhere does not exist");
  });

  test("--preview prints the configuration GitLab sees: includes merged, extends and !reference resolved", () => {
    const dir = project("include: ci/base.yml\nbuild:\n  extends: .base\n  script:\n    - !reference [shared, script]\n    - echo build\n");
    Bun.spawnSync(["mkdir", "-p", join(dir, "ci")]);
    writeFileSync(join(dir, "ci/base.yml"), ".base:\n  image: alpine\n  variables: { A: \"1\" }\nshared: { script: [echo shared] }\n");
    const run = exec(dir, "--preview");
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    const merged = Bun.YAML.parse(run.stdout.toString()) as Record<string, Record<string, unknown>>;
    expect(merged.build).toEqual({ image: "alpine", variables: { A: "1" }, script: ["echo shared", "echo build"] });
    expect(merged.shared).toEqual({ script: ["echo shared"] });
  });

  test("--graph draws the DAG in levels, each job with what it waits for", () => {
    const dir = project(`
stages: [build, test, deploy]
build: { stage: build, script: echo build }
test: { stage: test, script: echo test }
lint: { stage: test, needs: [], script: echo lint }
deploy: { stage: deploy, needs: [test], script: echo deploy }
`);
    const run = exec(dir, "--graph");
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    expect(run.stdout.toString()).toBe(" 1 │ build   lint\n 2 │ test ← stage build\n 3 │ deploy ← test\n");
  });

  test("retry: a failure whose exit code is listed runs again, one that is not listed does not", () => {
    const counter = join(mkdtempSync(join(tmpdir(), "runner-retry-")), "attempts");
    const dir = project(`
flaky:
  retry: { max: 2, exit_codes: [3] }
  script:
    - n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}; echo "attempt $((n+1))"
    - '[ "$n" -ge 1 ] || exit 3'
wrong-reason:
  retry: { max: 2, when: runner_system_failure }
  script: exit 1
`);
    const run = exec(dir, "flaky", "wrong-reason");
    const out = run.stdout.toString();
    expect(run.exitCode).toBe(1);
    expect(out).toMatch(/flaky +\| attempt 1\n/);
    expect(out).toMatch(/flaky +\| WARNING: Retrying the job: attempt 2 of 3\n/);
    expect(out).toMatch(/flaky +\| attempt 2\n/);
    expect(out).not.toMatch(/attempt 3/);
    expect(out).not.toMatch(/wrong-reason +\| WARNING: Retrying/);
    expect(out).toMatch(/passed +flaky/);
    expect(out).toMatch(/failed +wrong-reason/);
    expect(existsSync(join(dir, ".runner", "runs", "latest", "flaky-retry-1", "summary.json"))).toBe(true);
  });

  test("a retry that is out of range is GitLab's error", () => {
    const bad = exec(project("a:\n  retry: 3\n  script: x\n"), "--dry-run");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("retry config must be less than or equal to 2");
  });

  test("resource_group: jobs of one group never overlap, even with room to run together", () => {
    const log = join(mkdtempSync(join(tmpdir(), "runner-group-")), "log");
    const job = (name: string) => `${name}: { resource_group: production, script: ['echo start-${name} >> ${log}', 'sleep 0.3', 'echo end-${name} >> ${log}'] }\n`;
    const dir = project(job("one") + job("two") + job("three"));
    const run = exec(dir, "-j", "3");
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toHaveLength(6);
    for (let i = 0; i < 6; i += 2) expect(lines[i + 1]).toBe(lines[i]!.replace("start-", "end-"));
  });

  test("resource_group is expanded per job: groups that differ once expanded run together", () => {
    const log = join(mkdtempSync(join(tmpdir(), "runner-group-")), "log");
    const job = (name: string) => `${name}: { resource_group: "deploy-$CI_JOB_NAME", script: ['echo start-${name} >> ${log}', 'sleep 0.5', 'echo end-${name} >> ${log}'] }\n`;
    const run = exec(project(job("one") + job("two")), "-j", "2");
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    // Both started before either ended: deploy-one and deploy-two are different groups.
    expect(readFileSync(log, "utf8").trim().split("\n").slice(0, 2).every((line) => line.startsWith("start-"))).toBe(true);
  });

  test("rules:changes sees what a push would carry: unpushed commits and the working tree; nothing to push is no diff", () => {
    const { bare } = makeRepository(1);
    const clone = join(mkdtempSync(join(tmpdir(), "runner-changes-")), "clone");
    git(tmpdir(), "clone", "-q", bare, clone);
    mkdirSync(join(clone, "docs"));
    mkdirSync(join(clone, "src"));
    writeFileSync(join(clone, "docs", "a.md"), "a\n");
    writeFileSync(join(clone, "src", "b.ts"), "b\n");
    writeFileSync(join(clone, ".gitlab-ci.yml"), [
      "docs: { script: x, rules: [{ changes: ['docs/**/*'] }] }",
      "code: { script: x, rules: [{ changes: ['src/**/*'] }] }",
      "other: { script: x }",
    ].join("\n"));
    git(clone, "add", ".");
    git(clone, "commit", "-q", "-m", "base");
    git(clone, "push", "-q", "origin", "HEAD:main");
    const planned = () => JSON.parse(exec(clone, "--list-json").stdout.toString()).filter((r: { excluded?: string }) => !r.excluded).map((r: { name: string }) => r.name);
    // Everything pushed and a clean tree: no diff, so changes hold (GitLab's rule).
    expect(planned()).toEqual(["docs", "code", "other"]);
    // An unpushed commit touching docs/: only docs changed.
    writeFileSync(join(clone, "docs", "a.md"), "a2\n");
    git(clone, "commit", "-q", "-am", "docs");
    expect(planned()).toEqual(["docs", "other"]);
    // A rename in the working tree counts both paths.
    git(clone, "mv", "src/b.ts", "src/c.ts");
    expect(planned()).toEqual(["docs", "code", "other"]);
  });

  test("allow_failure: exit_codes allows only the listed exit codes", () => {
    const dir = project("known: { script: exit 42, allow_failure: { exit_codes: [42, 43] } }\nother: { script: exit 1, allow_failure: { exit_codes: 42 } }\n");
    expect(exec(dir, "known").exitCode).toBe(0);
    const run = JSON.parse(readFileSync(join(dir, ".runner", "runs", "latest", "summary.json"), "utf8"));
    expect(run).toMatchObject({ pipeline_status: "success", warnings: true });
    expect(JSON.parse(readFileSync(join(dir, ".runner", "runs", "latest", "known", "summary.json"), "utf8")))
      .toMatchObject({ status: "failed", allow_failure: true, exit_code: 42 });
    expect(exec(dir, "other").exitCode).toBe(1);
  });

  test("when: delayed waits start_in before it runs; start_in is checked as GitLab does", () => {
    const dir = project("later: { when: delayed, start_in: 1 second, script: echo later }\n");
    const started = performance.now();
    const run = exec(dir);
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(1000);
    expect(run.stdout.toString()).toContain("later\n");
    const blank = exec(project("a: { when: delayed, script: x }\n"), "--dry-run");
    expect(blank.stderr.toString()).toContain("jobs:a start in can't be blank");
    const stray = exec(project("a: { start_in: 1 minute, script: x }\n"), "--dry-run");
    expect(stray.stderr.toString()).toContain("jobs:a start in must be blank");
    const long = exec(project("a: { when: delayed, start_in: 2 weeks, script: x }\n"), "--dry-run");
    expect(long.stderr.toString()).toContain("jobs:a start in should not exceed the limit");
  });
});
