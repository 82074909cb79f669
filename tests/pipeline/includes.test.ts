import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError } from "../../src/pipeline/config-error.ts";
import { loadPipeline } from "../../src/pipeline/pipeline-cache.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "runner-include-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

const load = (text: string, cacheDir?: string) =>
  loadPipeline({ text, displayName: ".gitlab-ci.yml", root, ...(cacheDir ? { cacheDir } : {}) });

async function errorOf(text: string): Promise<string> {
  try {
    await load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.describe();
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("include:local stays inside the project (GitLab reads includes from the repository only)", () => {
  test("a symbolic link to a file outside the project is refused, not followed", async () => {
    const outside = mkdtempSync(join(tmpdir(), "runner-outside-"));
    writeFileSync(join(outside, "evil.yml"), "evil:\n  script: echo from outside\n");
    mkdirSync(join(root, "ci"));
    symlinkSync(join(outside, "evil.yml"), join(root, "ci", "evil.yml"));
    expect(await errorOf("include: ci/evil.yml\nok:\n  script: x\n")).toContain("Local file `ci/evil.yml` is outside the project");
    // A wildcard does not pick it up either.
    const p = await load("include: 'ci/*.yml'\nok:\n  script: x\n");
    expect(p.jobs.map((j) => j.name)).toEqual(["ok"]);
  });

  test("../ out of the project is refused", async () => {
    expect(await errorOf("include: { local: ../outside.yml }\nok:\n  script: x\n")).toContain("Local file `../outside.yml` is outside the project");
  });

  test("a wildcard never matches the runner's own .runner/ copies of the project", async () => {
    write("ci/a.yml", "a:\n  script: x\n");
    write(".runner/builds/job/project/ci/a.yml", "copy:\n  script: x\n");
    const p = await load("include: { local: '/**/*.yml' }\n");
    expect(p.jobs.map((j) => j.name)).toEqual(["a"]);
  });
});

describe("include:local", () => {
  test("an included file's jobs, stages and variables join the pipeline; the including file wins", async () => {
    write("ci/base.yml", "stages: [one, two]\nvariables: { A: base, B: base }\n.tmpl: { script: echo tmpl }\nbuild:\n  stage: one\n  script: echo base\n");
    const p = await load("include: ci/base.yml\nvariables: { B: own }\nbuild:\n  script: echo own\ntest:\n  extends: .tmpl\n  stage: two\n");
    expect(p.stages).toEqual([".pre", "one", "two", ".post"]);
    expect(p.variables.map((v) => [v.key, v.value])).toEqual([["A", "base"], ["B", "own"]]);
    const build = p.jobs.find((j) => j.name === "build")!;
    expect(build.script).toEqual(["echo own"]);
    expect(build.stage).toBe("one"); // hashes merge deeply: the included stage stays
    expect(p.jobs.find((j) => j.name === "test")!.script).toEqual(["echo tmpl"]);
  });

  test("the hash form, a leading slash, nested includes and globs in sorted order", async () => {
    write("ci/a.yml", "include: { local: /ci/nested/c.yml }\na: { script: echo a }\n");
    write("ci/nested/c.yml", "c: { script: echo c }\n");
    write("jobs/z.yml", "z: { script: echo z }\n");
    write("jobs/y.yml", "y: { script: echo y }\n");
    const p = await load("include:\n  - local: /ci/a.yml\n  - 'jobs/*.yml'\nown: { script: echo own }\n");
    expect(p.jobs.map((j) => j.name).sort()).toEqual(["a", "c", "own", "y", "z"]);
    expect(p.sources!.map((s) => s.path)).toEqual(["ci/a.yml", "ci/nested/c.yml", "jobs/y.yml", "jobs/z.yml"]);
  });

  test("GitLab's errors: a missing file, a file that is not YAML, an empty one, too many", async () => {
    expect(await errorOf("include: nope.yml\na: { script: x }\n")).toContain("Local file `nope.yml` does not exist!");
    write("notes.txt", "a: b\n");
    expect(await errorOf("include: notes.txt\na: { script: x }\n")).toContain("Included file `notes.txt` does not have YAML extension!");
    write("empty.yml", "\n");
    expect(await errorOf("include: empty.yml\na: { script: x }\n")).toContain("Local file `empty.yml` is empty!");
    write("loop.yml", "include: loop.yml\n");
    expect(await errorOf("include: loop.yml\na: { script: x }\n")).toContain("Maximum of 150 nested includes are allowed!");
  });

  test("an included file's syntax error names that file, line and column", async () => {
    write("bad.yml", "a:\n  script: [x\n");
    const message = await errorOf("include: bad.yml\nb: { script: x }\n");
    expect(message).toMatch(/^bad\.yml:3:1: /);
  });

  test("remote, project, template and component includes are refused offline with a way out", async () => {
    for (const include of [
      "https://example.com/ci.yml",
      "{ remote: 'https://example.com/ci.yml' }",
      "{ project: group/p, file: ci.yml }",
      "{ template: Auto-DevOps.gitlab-ci.yml }",
      "{ component: 'gitlab.com/a/b@1' }",
    ]) {
      const message = await errorOf(`include: ${include}\na: { script: x }\n`);
      expect(message).toContain("is not available offline");
      expect(message).toContain(".runner/includes.yml");
    }
  });

  test(".runner/includes.yml maps other projects, remote files and templates to local files; changing it re-plans", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "runner-templates-"));
    mkdirSync(join(elsewhere, "ci"));
    writeFileSync(join(elsewhere, "ci", "build.yml"), "include: ci/common.yml\nbuild: { extends: .common, script: make }\n");
    writeFileSync(join(elsewhere, "ci", "common.yml"), ".common: { stage: build }\n");
    write("vendor/remote.yml", "remote-job: { script: echo remote }\n");
    write("vendor/templates/Bash.gitlab-ci.yml", "bash-job: { script: echo bash }\n");
    write(".runner/includes.yml", [
      "projects:", `  group/templates: ${elsewhere}`,
      "remote:", "  https://example.com/ci.yml: vendor/remote.yml",
      "templates: vendor/templates",
    ].join("\n"));
    const text = "include:\n  - project: group/templates\n    file: ci/build.yml\n  - remote: https://example.com/ci.yml\n  - template: Bash.gitlab-ci.yml\n";
    const cacheDir = join(root, ".runner", "cache", "pipelines");
    const names = async () => (await load(text, cacheDir)).jobs.map((j) => `${j.name}@${j.stage}`);
    expect(await names()).toEqual(["build@build", "remote-job@test", "bash-job@test"]);
    // A file of the other project is a source of the cached plan too.
    writeFileSync(join(elsewhere, "ci", "common.yml"), ".common: { stage: deploy }\n");
    expect(await names()).toEqual(["build@deploy", "remote-job@test", "bash-job@test"]);
    write(".runner/includes.yml", "projects: { group/templates: [x] }\n");
    expect(await errorOf(text)).toBe(".runner/includes.yml: projects: group/templates should be a path");
  });

  test("include:project with ref reads the mapped checkout at that commit; an unknown ref is GitLab's error", async () => {
    const { work } = makeRepository(1);
    mkdirSync(join(work, "ci"));
    writeFileSync(join(work, "ci", "job.yml"), "job: { script: echo released }\n");
    git(work, "add", ".");
    git(work, "commit", "-q", "-m", "templates");
    git(work, "tag", "v2");
    writeFileSync(join(work, "ci", "job.yml"), "job: { script: echo working-tree }\n");
    write(".runner/includes.yml", `projects:\n  group/templates: ${work}\n`);
    const include = (ref: string) => `include:\n  - project: group/templates\n    ${ref}file: ci/job.yml\n`;
    expect((await load(include("ref: v2\n    "))).jobs[0]!.script).toEqual(["echo released"]);
    expect((await load(include(""))).jobs[0]!.script).toEqual(["echo working-tree"]);
    expect(await errorOf(include("ref: v9\n    "))).toBe("Project `group/templates` reference `v9` does not exist!");
  });

  // GitLab's CI/CD components: `host/path/name@version`, the version a tag, a SHA, `~latest` or a
  // partial semantic version; project paths match whatever their case.
  test("a component is read at its version from the mapped checkout; ~latest and partial versions pick the release", async () => {
    const { work } = makeRepository(1);
    mkdirSync(join(work, "templates"));
    const release = (version: string) => {
      writeFileSync(join(work, "templates", "hello.yml"), `hello: { script: echo ${version} }\n`);
      git(work, "add", ".");
      git(work, "commit", "-q", "-m", version);
      git(work, "tag", version);
    };
    for (const v of ["v1.0.0", "v1.2.0", "v1.10.1", "v2.0.0"]) release(v);
    writeFileSync(join(work, "templates", "hello.yml"), "hello: { script: echo working-tree }\n");
    write(".runner/includes.yml", `projects:\n  group/components: ${work}\n`);
    const component = (version: string) => `include:\n  - component: gitlab.example.com/Group/Components/hello@${version}\n`;
    expect((await load(component("~latest"))).jobs[0]!.script).toEqual(["echo v2.0.0"]);
    expect((await load(component("1"))).jobs[0]!.script).toEqual(["echo v1.10.1"]);
    expect((await load(component("1.2"))).jobs[0]!.script).toEqual(["echo v1.2.0"]);
    expect((await load(component("v1.0.0"))).jobs[0]!.script).toEqual(["echo v1.0.0"]);
    expect(await errorOf(component("3"))).toBe("Component project `Group/Components` has no release matching `3` (its tags are its versions)");
  });

  test("an invalid include map names the key", async () => {
    write(".runner/includes.yml", "projects: { group/templates: [x] }\n");
    const text = "include:\n  - project: group/templates\n    file: ci.yml\n";
    expect(await errorOf(text)).toBe(".runner/includes.yml: projects: group/templates should be a path");
  });

  test("a cached plan is parsed again when an included file changes", async () => {
    const cacheDir = join(root, ".runner", "cache", "pipelines");
    write("ci/jobs.yml", "a: { script: echo one }\n");
    const text = "include: ci/jobs.yml\n";
    expect((await load(text, cacheDir)).jobs[0]!.script).toEqual(["echo one"]);
    expect((await load(text, cacheDir)).jobs[0]!.script).toEqual(["echo one"]);
    write("ci/jobs.yml", "a: { script: echo two }\n");
    expect((await load(text, cacheDir)).jobs[0]!.script).toEqual(["echo two"]);
  });

  test("a plan with include wildcards is cached and parsed again when a file is added, changed or removed", async () => {
    const cacheDir = join(root, ".runner", "cache", "pipelines");
    const names = async () => (await load("include: ci/*.yml\n", cacheDir)).jobs.map((j) => `${j.name}:${j.script.join()}`);
    write("ci/a.yml", "a: { script: one }\n");
    expect(await names()).toEqual(["a:one"]);
    // A hit does not parse: a cached file's content is what comes back.
    const [cached] = readdirSync(cacheDir);
    const entry = JSON.parse(readFileSync(join(cacheDir, cached!), "utf8"));
    writeFileSync(join(cacheDir, cached!), JSON.stringify({ ...entry, jobs: [{ ...entry.jobs[0], script: ["from cache"] }] }));
    expect(await names()).toEqual(["a:from cache"]);
    write("ci/b.yml", "b: { script: two }\n");
    expect(await names()).toEqual(["a:one", "b:two"]);
    rmSync(join(root, "ci", "a.yml"));
    expect(await names()).toEqual(["b:two"]);
  });
});
