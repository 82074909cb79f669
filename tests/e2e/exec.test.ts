import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { livingMembers } from "../../src/shell/supervisor.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");

const PIPELINE = `
stages: [build, test, deploy]

variables:
  GREETING: hello
  DEPLOY_TARGET: staging

.defaults: &defaults
  before_script:
    - echo "before in $CI_JOB_NAME"

build:
  <<: *defaults
  stage: build
  script:
    - echo "$GREETING from $CI_JOB_NAME ($CI_JOB_STAGE) at $CI_COMMIT_SHA"
    - echo "title=$CI_COMMIT_TITLE branch=$CI_COMMIT_BRANCH ci=$CI gitlab=$GITLAB_CI"
    - cat wip.txt
    - echo built > output.txt
  after_script:
    - echo "after with $CI_JOB_STATUS"

lint:
  stage: test
  script:
    - echo lint failing
    - exit 4
  allow_failure: true

unit:
  stage: test
  variables:
    GREETING: bonjour
  script:
    - echo "$GREETING unit"
    - test ! -e output.txt

deploy:
  stage: deploy
  script:
    - echo "deploying to $DEPLOY_TARGET"

manual-job:
  stage: deploy
  when: manual
  script: echo manual ran
`;

function runner(args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const result = Bun.spawnSync([BINARY, ...args], {
    cwd, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root", ...extraEnv },
  });
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
}

function fixture(pipeline = PIPELINE): { dir: string; head: string } {
  const repo = makeRepository(2);
  writeFileSync(join(repo.work, ".gitlab-ci.yml"), pipeline);
  git(repo.work, "add", ".gitlab-ci.yml");
  git(repo.work, "commit", "-q", "-m", "Add the pipeline");
  writeFileSync(join(repo.work, "wip.txt"), "work in progress, not committed\n");
  return { dir: repo.work, head: git(repo.work, "rev-parse", "HEAD") };
}

beforeAll(() => {
  if (!existsSync(BINARY)) {
    const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  }
});

describe("dist/runner exec", () => {
  test("--version prints the version and revision", () => {
    const { code, out } = runner(["--version"], "/tmp");
    expect(code).toBe(0);
    expect(out).toMatch(/^\d+\.\d+\.\d+ \([0-9a-f]{8}|unknown\)\n$/);
  });

  test("runs the whole pipeline stage by stage on a copy of the working tree", () => {
    const { dir, head } = fixture();
    const { code, out } = runner(["exec"], dir);
    expect(code).toBe(0);
    expect(out).toContain(`build  | hello from build (build) at ${head}\n`);
    expect(out).toContain("build  | title=Add the pipeline branch=main ci=true gitlab=true\n");
    expect(out).toContain("build  | work in progress, not committed\n");
    expect(out).toContain("build  | before in build\n");
    expect(out).toContain("build  | after with success\n");
    expect(out).toContain("unit   | bonjour unit\n");
    expect(out).toContain("lint   | ERROR: Job failed: exit status 4\n");
    expect(out).toContain("deploy | deploying to staging\n");
    expect(out).not.toContain("manual ran");
    expect(out.indexOf("deploying to")).toBeGreaterThan(out.indexOf("bonjour unit"));
    expect(out).toMatch(/failed \(allowed\) lint/);
    // The user's checkout stays clean: no build output, and .runner/ is ignored by git.
    expect(existsSync(join(dir, "output.txt"))).toBe(false);
    expect(git(dir, "status", "--porcelain")).toBe("?? wip.txt");
  });

  test("runs only the named jobs, whatever their stage or when", () => {
    const { dir } = fixture();
    const { code, out } = runner(["exec", "manual-job"], dir);
    expect(code).toBe(0);
    expect(out).toContain("$ echo manual ran\nmanual ran\n");
    expect(out).not.toContain("hello from build");
  });

  test("--variable beats the file's variables", () => {
    const { dir } = fixture();
    const { out } = runner(["exec", "deploy", "--variable", "DEPLOY_TARGET=production"], dir);
    expect(out).toContain("deploying to production\n");
  });

  test("a failing job exits 1 and skips the later stages", () => {
    const { dir } = fixture(`build:\n  stage: build\n  script: [echo b, exit 3]\ndeploy:\n  stage: deploy\n  script: echo deployed\n`);
    const { code, out } = runner(["exec"], dir);
    expect(code).toBe(1);
    expect(out).toContain("ERROR: Job failed: exit status 3");
    expect(out).not.toContain("echo deployed");
    expect(out).toMatch(/skipped\s+deploy/);
  });

  test("bad input exits 2 with one clear line and no stack trace", () => {
    const cases: [string, string, RegExp][] = [
      ["build:\n  script: [oops\n", "build", /^Error: Invalid configuration: \.gitlab-ci\.yml:3:1: .+\n$/],
      ["build:\n  stage: build\n", "build", /^Error: Invalid configuration: \.gitlab-ci\.yml:1:1: jobs build config should implement the script:, run:, or trigger: keyword\n$/],
      ["build:\n  script: x\n", "nope", /^Error: Job "nope" is not defined in the pipeline; jobs are: build\n$/],
    ];
    for (const [pipeline, job, message] of cases) {
      const { dir } = fixture(pipeline);
      const { code, err, out } = runner(["exec", job], dir);
      expect({ code, err }).toEqual({ code: 2, err: expect.stringMatching(message) });
      expect(out).toBe("");
    }
    expect(runner(["exec", "--bogus"], "/tmp").code).toBe(2);
  });

  test("a missing pipeline file exits 2", () => {
    const { code, err } = runner(["exec", "--file", "nope.yml"], "/tmp");
    expect(code).toBe(2);
    expect(err).toBe("Error: Invalid configuration: Cannot read nope.yml: no such file\n");
  });

  test("--cwd and --file point at another project", () => {
    const { dir } = fixture();
    writeFileSync(join(dir, "other.yml"), "only:\n  script: echo from-other-file\n");
    const { code, out } = runner(["exec", "--cwd", dir, "--file", "other.yml"], "/tmp");
    expect(code).toBe(0);
    expect(out).toContain("from-other-file\n");
  });

  test("an image is ignored by a forced shell executor, with a notice", () => {
    const { dir } = fixture("job:\n  image: alpine:3.20\n  script: echo ran\n");
    const { code, out } = runner(["exec", "--executor", "shell"], dir);
    expect(code).toBe(0);
    expect(out).toContain('WARNING: image "alpine:3.20" is ignored by the shell executor\n');
  });

  test("--shell sh runs the job with POSIX sh", () => {
    const { dir } = fixture("job:\n  script: echo \"shell=$0\"\n");
    const { code, out } = runner(["exec", "--shell", "sh"], dir);
    expect(code).toBe(0);
    expect(out).toMatch(/shell=(sh|bash)\n/);
  });

  test("artifacts and dotenv variables reach later jobs; needs with artifacts: false blocks them; caches persist between runs", () => {
    const { dir } = fixture([
      "stages: [build, test]",
      "build:\n  stage: build\n  script:\n    - mkdir -p out && echo binary > out/app\n    - echo VERSION=1.2.3 > build.env\n    - ls vendor 2>/dev/null || echo no-cache-yet\n    - mkdir -p vendor && echo dep > vendor/lib\n  artifacts:\n    paths: [out/]\n    reports:\n      dotenv: build.env\n  cache:\n    key: deps\n    paths: [vendor/]",
      "test:\n  stage: test\n  script:\n    - cat out/app\n    - echo version=$VERSION",
      "isolated:\n  stage: test\n  needs:\n    - job: build\n      artifacts: false\n  script:\n    - test ! -e out/app && echo isolated-version=${VERSION:-unset}",
    ].join("\n"));
    const first = runner(["exec"], dir);
    expect(first.code).toBe(0);
    expect(first.out).toContain("build    | no-cache-yet\n");
    expect(first.out).toContain("test     | binary\n");
    expect(first.out).toContain("test     | version=1.2.3\n");
    expect(first.out).toContain("isolated | isolated-version=unset\n");
    const second = runner(["exec", "build"], dir);
    expect(second.out).toContain("Successfully extracted cache");
    expect(second.out).toContain("$ ls vendor 2>/dev/null || echo no-cache-yet\nlib\n");
  });

  // A GitLab job's repository has the origin remote and its remote-tracking refs (GitLab Runner's
  // fetch refspecs): real jobs run `git diff-tree --check origin/main HEAD`.
  test("the job's repository has origin and origin/<branch> refs as after GitLab's fetch, without network", () => {
    const repo = makeRepository(2);
    git(repo.work, "remote", "add", "origin", "https://gitlab.example.com/group/project.git");
    git(repo.work, "update-ref", "refs/remotes/origin/main", repo.shas[0]!);
    git(repo.work, "checkout", "-q", "-b", "feature");
    writeFileSync(join(repo.work, ".gitlab-ci.yml", ), [
      "check:",
      "  script:",
      '    - echo "remote=$(git remote get-url origin)"',
      '    - echo "main=$(git rev-parse origin/main) feature=$(git rev-parse origin/feature)"',
      "    - git diff-tree --check origin/main HEAD",
      "",
    ].join("\n"));
    git(repo.work, "add", ".gitlab-ci.yml");
    git(repo.work, "commit", "-q", "-m", "Add the pipeline");
    const head = git(repo.work, "rev-parse", "HEAD");
    const { code, out } = runner(["exec", "check"], repo.work);
    expect(code, out).toBe(0);
    expect(out).toContain("remote=https://gitlab.example.com/group/project.git");
    expect(out).toContain(`main=${repo.shas[0]} feature=${head}`);

    // The kept build directory follows the user: a fetch that moved origin/main, a changed URL.
    git(repo.work, "update-ref", "refs/remotes/origin/main", repo.shas[1]!);
    git(repo.work, "remote", "set-url", "origin", "https://gitlab.example.com/group/renamed.git");
    const again = runner(["exec", "check"], repo.work);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("remote=https://gitlab.example.com/group/renamed.git");
    expect(again.out).toContain(`main=${repo.shas[1]} feature=${head}`);
  });

  test("a pipeline workflow:rules filter out: --list names every job and why, exit 3", () => {
    const { dir } = fixture("workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n    - when: never\na:\n  script: x\nb:\n  script: y\n");
    const { code, out } = runner(["exec", "--list"], dir);
    expect(code).toBe(3);
    expect(out).toContain("Pipeline filtered out by workflow rules. workflow:rules rule 2 matched with when: never");
    expect(out).toContain("  a: not run, the pipeline is not created");
    expect(out).toContain("  b: not run, the pipeline is not created");
  });

  test("--protected runs as on a protected branch: CI_COMMIT_REF_PROTECTED in rules and jobs, protected caches", () => {
    const { dir } = fixture([
      "deploy:",
      "  rules:",
      '    - if: $CI_COMMIT_REF_PROTECTED == "true"',
      "  cache: { key: deps, paths: [vendor/] }",
      '  script: echo "protected=$CI_COMMIT_REF_PROTECTED"',
      "",
    ].join("\n"));
    const plain = runner(["exec"], dir);
    expect(plain.out + plain.err).toContain("The rules configuration prevented any jobs from being added to the pipeline");
    const protectedRun = runner(["exec", "--protected"], dir);
    expect(protectedRun.code, protectedRun.out).toBe(0);
    expect(protectedRun.out).toContain("protected=true");
    expect(protectedRun.out).toContain("deps-protected");
  });

  test("--preview reads back to the same configuration in YAML 1.1, as GitLab reads it", async () => {
    const { dir } = fixture('variables:\n  ANSWER: "yes"\n  NOPE: "no"\n  PORTS: "10005:0"\n  FLAG: "on"\na:\n  script: echo "$ANSWER"\n');
    const { code, out } = runner(["exec", "--preview"], dir);
    expect(code).toBe(0);
    const YAML = await import("yaml");
    const reread = YAML.parse(out, { version: "1.1" }) as { variables: Record<string, unknown> };
    expect(reread.variables).toEqual({ ANSWER: "yes", NOPE: "no", PORTS: "10005:0", FLAG: "on" });
  });

  test("--cwd naming no directory is reported and not created; an absolute --variables-file is read where it is", () => {
    const { dir } = fixture('a:\n  script: echo "from-file=$FROM_FILE"\n');
    const typo = join(dir, "no-such-dir");
    const missing = runner(["exec", "--cwd", typo], dir);
    expect(missing.code).toBe(2);
    expect(existsSync(typo)).toBe(false);
    const file = join(mkdtempSync(join(tmpdir(), "runner-vars-")), "vars.env");
    writeFileSync(file, "FROM_FILE=absolute\n");
    const run = runner(["exec", "--variables-file", file, "a"], dir);
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toContain("from-file=absolute");
  });

  test("output has no escape codes when stdout is not a terminal", () => {
    const { dir } = fixture();
    expect(runner(["exec", "deploy"], dir).out).not.toContain("\x1b");
  });

  test("Ctrl-C cancels the running job, runs after_script, and leaves no process", async () => {
    const { dir } = fixture(`slow:\n  script:\n    - echo "pgid $(ps -o pgid= $$)"\n    - sleep 60\n  after_script:\n    - echo "after=$CI_JOB_STATUS"\n`);
    const child = Bun.spawn([BINARY, "exec", "slow"], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH! } });
    let out = "";
    const reader = child.stdout.getReader();
    let pgid = 0;
    while (pgid === 0) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
      pgid = Number(/pgid\s+(\d+)/.exec(out)?.[1] ?? 0);
    }
    child.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect(await child.exited).toBe(1);
    expect(out).toContain("after=canceled\n");
    expect(out).toContain("ERROR: Job failed: canceled\n");
    expect(livingMembers(pgid)).toEqual([]);
  });

  for (const [how, signals] of [["SIGTERM", ["SIGTERM"]], ["a double Ctrl-C", ["SIGINT", "SIGINT"]]] as const) {
    test(`${how} ends a job whose setsid child holds its output, and leaves no process`, async () => {
      const token = `${6000 + signals.length}.${process.pid}`;
      const { dir } = fixture(`slow:\n  script:\n    - setsid sleep ${token} &\n    - echo started\n    - sleep 60\n`);
      const child = Bun.spawn([BINARY, "exec", "slow"], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH! } });
      let out = "";
      const reader = child.stdout.getReader();
      while (!out.includes("started\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      const sent = performance.now();
      for (const signal of signals) {
        child.kill(signal);
        await Bun.sleep(50);
      }
      while (!(await reader.read()).done);
      expect(await child.exited).not.toBe(0);
      expect(performance.now() - sent).toBeLessThan(8000);
      expect(Bun.spawnSync(["pgrep", "-f", token]).stdout.toString()).toBe("");
    }, 20_000);
  }

  test("a job's record of its trace never shows a masked secret (masking through the binary)", () => {
    const { dir } = fixture(`leak:\n  script:\n    - echo token glpat-0123456789abcdef\n`);
    const { out } = runner(["exec", "leak"], dir);
    expect(out).toContain("token glpat-[MASKED]\n");
    expect(readFileSync(join(dir, ".runner", ".gitignore"), "utf8")).toContain("*");
  });
});
