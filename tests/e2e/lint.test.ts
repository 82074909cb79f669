import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
beforeAll(() => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-lint-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
const run = (dir: string, ...args: string[]) => {
  const result = Bun.spawnSync([BINARY, ...args], { cwd: dir, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
};

describe("dist/runner lint", () => {
  test("a valid file: exit 0, the counts, and the keywords without local effect", () => {
    const dir = project({
      ".gitlab-ci.yml": "include: ci/jobs.yml\nbuild: { stage: build, script: make, tags: [docker] }\n",
      "ci/jobs.yml": "test: { script: make test }\n",
    });
    const { code, out } = run(dir, "lint");
    expect(code).toBe(0);
    expect(out).toBe(
      ".gitlab-ci.yml is valid (2 jobs in 2 stages)\n" +
        "Warning: tags has no effect in a local run (tags choose a runner; every job runs here): build\n",
    );
  });

  test("every entry error at once, each with file, line and column; exit 2", () => {
    const dir = project({ ".gitlab-ci.yml": "a:\n  script: x\n  when: later\nb:\n  stage: build\nc:\n  script: z\n  foo: 1\n" });
    const { code, out } = run(dir, "lint");
    expect(code).toBe(2);
    expect(out).toBe(
      ".gitlab-ci.yml is invalid:\n" +
        "  .gitlab-ci.yml:1:1: jobs:a when should be one of: on_success, on_failure, always, manual, delayed\n" +
        "  .gitlab-ci.yml:4:1: jobs b config should implement the script:, run:, or trigger: keyword\n" +
        "  .gitlab-ci.yml:6:1: jobs:c config contains unknown keys: foo\n",
    );
  });

  test("--json for scripts, and runner exec reports the same errors as bad input", () => {
    const dir = project({ ".gitlab-ci.yml": "a: { script: x, foo: 1 }\nb: { scrpt: y }\n" });
    const { code, out } = run(dir, "lint", "--json");
    expect(code).toBe(2);
    expect(JSON.parse(out)).toEqual({
      file: ".gitlab-ci.yml", valid: false, warnings: [],
      errors: [
        { message: "jobs:a config contains unknown keys: foo", file: ".gitlab-ci.yml", line: 1, column: 1 },
        { message: "jobs b config should implement the script:, run:, or trigger: keyword", file: ".gitlab-ci.yml", line: 2, column: 1 },
      ],
    });
    const exec = run(dir, "exec");
    expect(exec.code).toBe(2);
    expect(exec.err).toBe(
      "Error: Invalid configuration:\n" +
        "  .gitlab-ci.yml:1:1: jobs:a config contains unknown keys: foo\n" +
        "  .gitlab-ci.yml:2:1: jobs b config should implement the script:, run:, or trigger: keyword\n",
    );
  });

  test("inputs: --input fills the spec; problems are errors", () => {
    const dir = project({ ".gitlab-ci.yml": "spec:\n  inputs:\n    env:\n      options: [dev, prod]\n---\ndeploy:\n  script: echo $[[ inputs.env ]]\n" });
    expect(run(dir, "lint", "--input", "env=prod").code).toBe(0);
    const missing = run(dir, "lint");
    expect(missing.code).toBe(2);
    expect(missing.out).toContain("`env` input: required value has not been provided");
  });

  test("a component of this project, addressed as $CI_SERVER_FQDN/$CI_PROJECT_PATH/name@ref, is read from its templates/", () => {
    const dir = project({
      ".gitlab-ci.yml": "include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/say@main\n    inputs: { msg: hello-from-component }\n",
      "templates/say.yml": "spec:\n  inputs:\n    msg: { default: hi }\n---\nsay:\n  script: echo \"$[[ inputs.msg ]]\"\n",
    });
    for (const args of [["init", "-q", "-b", "main"], ["remote", "add", "origin", "https://gitlab.example.com/group/proj.git"]]) {
      Bun.spawnSync(["git", ...args], { cwd: dir });
    }
    expect(run(dir, "lint").out).toBe(".gitlab-ci.yml is valid (1 job in 1 stage)\n");
    const exec = run(dir, "exec", "--no-color");
    expect(exec.code).toBe(0);
    expect(exec.out).toContain("\nhello-from-component\n");
  });

  test("a missing file and bad YAML are reported, not thrown", () => {
    const none = run(project({}), "lint");
    expect(none).toMatchObject({ code: 2, out: ".gitlab-ci.yml is invalid:\n  Cannot read .gitlab-ci.yml: no such file\n" });
    const bad = run(project({ ".gitlab-ci.yml": "a:\n  script: [x\nb: {\n" }), "lint");
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/^\.gitlab-ci\.yml is invalid:\n  \.gitlab-ci\.yml:3:1: /);
    expect(bad.err).toBe("");
  });
});

describe("dist/runner exec: project variables and secrets files", () => {
  test("--variables-file and --secrets-file: values reach the job, secrets are masked in the trace and the record", () => {
    const dir = project({
      ".gitlab-ci.yml": "a:\n  script: echo \"$REGION $TOKEN\"\n",
      "vars.env": "REGION=us-east\n",
      "secrets.env": "TOKEN=\"tok-0123456789\"\n",
    });
    const { code, out } = run(dir, "exec", "--no-color", "--variables-file", "vars.env", "--secrets-file", "secrets.env");
    expect(code).toBe(0);
    expect(out).toContain("us-east [MASKED]");
    expect(out).not.toContain("tok-0123456789");
    const trace = Bun.spawnSync(["cat", join(dir, ".runner", "runs", "latest", "a", "trace.log")]).stdout.toString();
    expect(trace).toContain("us-east [MASKED]");
    expect(trace).not.toContain("tok-0123456789");
  });

  test("a YAML variables file declares file variables: the job gets a path to the value", () => {
    const dir = project({
      ".gitlab-ci.yml": "a:\n  script:\n    - test -f \"$KUBECONFIG\" && echo \"is a file\"\n    - cat \"$KUBECONFIG\"\n    - echo \"region=$REGION\"\n",
      "vars.yml": "KUBECONFIG:\n  value: \"apiVersion: v1\"\n  file: true\nREGION: eu-north\n",
    });
    const { code, out } = run(dir, "exec", "--no-color", "--variables-file", "vars.yml");
    expect(code).toBe(0);
    expect(out).toContain("is a file");
    expect(out).toContain("apiVersion: v1");
    expect(out).toContain("region=eu-north");
    const bad = project({ ".gitlab-ci.yml": "a: { script: x }\n", "vars.yml": "A: { value: x, type: file }\n" });
    const refused = run(bad, "exec", "--variables-file", "vars.yml");
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(`Error: ${join(bad, "vars.yml")}: A: unknown key type (value, file and masked are known)\n`);
  });

  test("--variable beats a variables file; a missing file given on the command line is bad input", () => {
    const dir = project({ ".gitlab-ci.yml": "a: { script: echo \"region=$REGION\" }\n", "vars.env": "REGION=us-east\n" });
    expect(run(dir, "exec", "--variables-file", "vars.env", "--variable", "REGION=eu").out).toContain("region=eu");
    const missing = run(dir, "exec", "--secrets-file", "nope.env");
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(`Error: Cannot read --secrets-file ${join(dir, "nope.env")}: no such file\n`);
  });
});
