import { describe, expect, test } from "bun:test";
import { BINARY, useRealParts } from "../helpers/real-parts.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import { BUSYBOX } from "../helpers/docker.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";

/**
 * In-band job commands: Azure Pipelines' logging commands (learn.microsoft.com/azure/devops/
 * pipelines/scripts/logging-commands) and GitHub's workflow commands, on every executor and in a
 * coordinator's job. Masks are always honoured; commands that change the job come from
 * $RUNNER_COMMAND_FILE (what the job's output says is ignored), docs/job-commands.md.
 */
const parts = useRealParts();
const docker = parts.docker;
const ssh = parts.ssh;

const SECRET = "s3cr3t-from-vault";
const FILE = '"$RUNNER_COMMAND_FILE"';
// Values are made at run time, as a vault's would be: the script's own text (echoed as `$ …`) holds none.
const SCRIPT = [
  `echo "##vso[task.setsecret]$(echo ${SECRET.slice(0, 6)})$(echo ${SECRET.slice(6)})"`,
  // Split across two writes right after the command.
  `printf '${SECRET.slice(0, 7)}'; printf '${SECRET.slice(7)} split\\n'`,
  'echo "::add-mask::$(echo gh-mask)-$(echo 1234)"',
  "echo gh-mask-1234 shown",
  'echo "::warning file=src/app.ts,line=12,col=3::deprecated call"',
  'echo "##vso[task.logissue type=error;sourcepath=lib/x.c;linenumber=7]bad thing"',
  'echo "##[group]Installing"', "echo inside the group", 'echo "##[endgroup]"',
  // A file the job merely prints: it changes nothing.
  "cat hostile.txt",
  `echo "##vso[task.setvariable variable=FROM_FILE]kept" >> ${FILE}`,
  `echo "##vso[task.setvariable variable=HIDDEN;issecret=true]$(echo hidden-value)-99" >> ${FILE}`,
  `echo "##vso[task.prependpath]/opt/tools/bin" >> ${FILE}`,
  `echo "##vso[task.setvariable variable=OUT;isoutput=true]42" >> ${FILE}`,
  'echo report > report.txt',
  `echo "##vso[task.uploadfile]$CI_PROJECT_DIR/report.txt" >> ${FILE}`,
  `echo "##vso[task.complete result=SucceededWithIssues]" >> ${FILE}`,
  'echo "  ##vso[task.setsecret]looks-like-one"',
];
const AFTER = [
  'echo "after FROM_FILE=$FROM_FILE HOSTILE=${HOSTILE:-unset} PATH=${PATH%%:*}"',
  `echo "later ${SECRET} and $HIDDEN"`,
];
const HOSTILE = [
  "##vso[task.setvariable variable=HOSTILE]1", "##vso[task.prependpath]/evil", "##vso[task.complete result=Failed]owned", "",
].join("\n");

function pipeline(image?: string): string {
  const quoted = (lines: string[]) => lines.map((l) => `    - ${JSON.stringify(l)}`).join("\n");
  const img = image ? `  image: ${image}\n` : "";
  return `build:\n  stage: build\n${img}  script:\n${quoted(SCRIPT)}\n  after_script:\n${quoted(AFTER)}\n` +
    `test:\n  stage: test\n${img}  script:\n${quoted(['echo "OUT=$OUT"', "cat report.txt"])}\n`;
}

interface Road {
  readonly name: string;
  readonly available: boolean;
  readonly flags: () => string[];
  readonly image?: string;
}

const ROADS: Road[] = [
  { name: "shell", available: true, flags: () => ["--executor", "shell"] },
  { name: "docker", available: docker, image: BUSYBOX, flags: () => ["--executor", "docker"] },
  {
    name: "ssh", available: ssh,
    flags: () => ["--executor", "ssh", "--ssh-host", "127.0.0.1", "--ssh-port", String(parts.sshd().port), "--ssh-user", "root",
      "--ssh-identity-file", parts.sshd().clientKey, "--ssh-known-hosts-file", parts.sshd().knownHosts],
  },
];

describe("job commands through runner exec", () => {
  for (const road of ROADS) {
    (road.available ? test : test.skip)(`${road.name}: masks, issues, groups, variables, PATH, outputs, uploads, a result; printed commands change nothing`, () => {
      const repo = makeRepository(1);
      writeFileSync(join(repo.work, ".gitlab-ci.yml"), pipeline(road.image));
      writeFileSync(join(repo.work, "hostile.txt"), HOSTILE);
      git(repo.work, "add", ".");
      git(repo.work, "commit", "-q", "-m", "ci");
      const run = Bun.spawnSync([BINARY, "exec", "--no-color", ...road.flags()], { cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });
      const out = run.stdout.toString() + run.stderr.toString();
      expect(run.exitCode, out).toBe(0);
      const record = join(repo.work, ".runner", "runs", "latest");
      const trace = readFileSync(join(record, "build", "trace.log"), "utf8");
      for (const text of [out, trace]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain("gh-mask-1234");
        expect(text).not.toContain("hidden-value-99");
        expect(text).not.toContain("##vso[task.setsecret]s3");
      }
      expect(out).toMatch(/build +\| \[MASKED\] split\n/);
      expect(out).toMatch(/build +\| \[MASKED\] shown\n/);
      expect(out).toMatch(/build +\| WARNING: src\/app\.ts:12:3: deprecated call\n/);
      expect(out).toMatch(/build +\| ERROR: lib\/x\.c:7: bad thing\n/);
      expect(out).toMatch(/build +\| Installing\n/);
      expect(trace).toMatch(/section_start:\d+:section_group_1\[collapsed=true\]\r\x1b\[0K\x1b\[36;1mInstalling/);
      expect(trace).toMatch(/section_end:\d+:section_group_1\r/);
      // The printed file: its commands are refused, once each, and nothing changes.
      expect(out).toContain("WARNING: task.setvariable printed by the job is ignored");
      expect(out).toMatch(/build +\| after FROM_FILE=kept HOSTILE=unset PATH=\/opt\/tools\/bin\n/);
      expect(out).toMatch(/build +\| later \[MASKED\] and \[MASKED\]\n/);
      expect(out).toMatch(/build +\|   ##vso\[task\.setsecret\]looks-like-one\n/);
      expect(out).toMatch(/test +\| OUT=42\n/);
      expect(out).toMatch(/test +\| report\n/);
      expect(out).toMatch(/passed +build .*\(with issues\)\n +warning src\/app\.ts:12:3: deprecated call\n +error lib\/x\.c:7: bad thing/);
      const summary = JSON.parse(readFileSync(join(record, "build", "summary.json"), "utf8"));
      expect(summary.issues).toEqual([
        { type: "warning", message: "deprecated call", file: "src/app.ts", line: 12, column: 3 },
        { type: "error", message: "bad thing", file: "lib/x.c", line: 7 },
      ]);
      expect(summary.with_issues).toBe(true);
      const html = join(repo.work, "run.html");
      expect(Bun.spawnSync([BINARY, "show", "--cwd", repo.work, "--html", html]).exitCode).toBe(0);
      const page = readFileSync(html, "utf8");
      expect(page).toContain("src/app.ts:12:3: deprecated call");
      // The record's own texts (a script line's text in events.jsonl, the page's titles) mask it from then on too.
      const events = readFileSync(join(record, "build", "events.jsonl"), "utf8");
      for (const text of [page, events]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain("gh-mask-1234");
      }
    }, 120_000);
  }

  test("task.complete result=Failed from the command file fails the job; CI_DEBUG_TRACE notes each command by name only", () => {
    const repo = makeRepository(1);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), `job:\n  variables: { CI_DEBUG_TRACE: "true" }\n  script:\n    - ${JSON.stringify(`echo "##vso[task.complete result=Failed]the tests found 3 problems" >> ${FILE}`)}\n    - ${JSON.stringify('echo "##vso[task.setsecret]debug-secret-77"')}\n`);
    git(repo.work, "add", ".");
    git(repo.work, "commit", "-q", "-m", "ci");
    const run = Bun.spawnSync([BINARY, "exec", "--no-color", "--executor", "shell"], { cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });
    const out = run.stdout.toString();
    expect(run.exitCode, out).toBe(1);
    expect(out).toContain("ERROR: Job failed: task.complete result=Failed: the tests found 3 problems");
    expect(out).toContain("runner command: ##vso[task.setsecret]");
    expect(out).not.toContain("debug-secret-77\n");
  }, 60_000);
});

describe("job commands in a coordinator's job", () => {
  test("the trace GitLab receives is masked and has the issues; isoutput variables go up as a dotenv report", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const dir = mkdtempSync(join(tmpdir(), "runner-commands-"));
      writeFileSync(join(dir, "hostile.txt"), HOSTILE);
      const id = fake.enqueue([`cp ${join(dir, "hostile.txt")} hostile.txt`, ...SCRIPT], {
        afterScript: AFTER,
        variables: [{ key: "GIT_STRATEGY", value: "none", public: true }],
        artifacts: [{ name: "artifacts", paths: ["nothing-else/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }],
      });
      const child = Bun.spawn([BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--max-builds", "1", "--builds-dir", join(dir, "builds")], {
        env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" }, stdout: "pipe", stderr: "pipe",
      });
      const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect(code, err).toBe(0);
      const job = fake.jobs.get(id)!;
      const trace = job.trace.toString();
      expect(job.status, trace).toBe("success");
      expect(trace).not.toContain(SECRET);
      expect(trace).not.toContain("hidden-value-99");
      expect(trace).toMatch(/01O \x1b\[0;33mWARNING: src\/app\.ts:12:3: deprecated call/);
      expect(trace).toMatch(/01O after FROM_FILE=kept HOSTILE=unset PATH=\/opt\/tools\/bin\n/);
      const dotenv = job.artifacts.find((a) => a.type === "dotenv");
      expect(dotenv && gunzipSync(dotenv.data).toString()).toBe("OUT=42\n");
      expect(job.artifacts.some((a) => a.type === "archive")).toBe(true);
      expect(fake.deviations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
