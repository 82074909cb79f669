import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/pipeline/config-error.ts";
import { readPipeline } from "../../src/pipeline/definitions.ts";
import { planRun, type PlanContext } from "../../src/pipeline/plan.ts";
import { parseYamlFile } from "../../src/pipeline/yaml-file.ts";

function context(vars: Record<string, string>, files: { changed?: string[]; tracked?: string[] } = {}): PlanContext {
  return {
    ruleVariables: (job, workflow) => ({
      ...vars, ...Object.fromEntries([...workflow, ...(job?.variables ?? [])].map((v) => [v.key, v.value])),
    }),
    changedFiles: () => files.changed,
    trackedFiles: () => files.tracked ?? [],
  };
}

const BRANCH = { CI_COMMIT_BRANCH: "main", CI_COMMIT_REF_NAME: "main", CI_PIPELINE_SOURCE: "push" };

function plan(yaml: string, vars: Record<string, string> = BRANCH, files = {}, selected: string[] = []) {
  const p = planRun(readPipeline(parseYamlFile(".gitlab-ci.yml", yaml)), { jobs: selected, context: context(vars, files) });
  return {
    jobs: Object.fromEntries(p.jobs.map((j) => [j.job.name, { when: j.job.when, allow_failure: j.job.allowFailure, after: j.after }])),
    excluded: Object.fromEntries(p.excluded.map((e) => [e.job, e.reason])),
    workflow: p.workflowVariables,
  };
}

function planError(yaml: string, vars: Record<string, string> = BRANCH): string {
  try {
    plan(yaml, vars);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected an error");
}

describe("rules (docs/pipeline.md §6.1)", () => {
  test.each([
    ["the first matching rule decides", 'a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH == "dev"\n      when: never\n    - if: $CI_COMMIT_BRANCH == "main"\n      when: manual\nb:\n  script: y\n', { b: "on_success" }, { a: 'when: manual (--manual "a" plays it)' }],
    ["no rule matching leaves the job out", 'a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG\nb:\n  script: y\n', { b: "on_success" }, { a: "no rule matched" }],
    ["a rule without clauses always matches", "a:\n  script: x\n  rules:\n    - when: always\n", { a: "always" }, {}],
    ["when: never excludes", 'a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH\n      when: never\nb:\n  script: y\n', { b: "on_success" }, { a: "rules: when: never (rule 1: if: $CI_COMMIT_BRANCH)" }],
    ["the job's own when is the default of a matching rule", 'a:\n  script: x\n  when: always\n  rules:\n    - if: $CI_COMMIT_BRANCH\n', { a: "always" }, {}],
    ["a job's own variables are seen by if", 'a:\n  script: x\n  variables:\n    MODE: fast\n  rules:\n    - if: $MODE == "fast"\n', { a: "on_success" }, {}],
    ["variables in if are not expanded", 'variables:\n  A: $B\n  B: x\na:\n  script: x\n  rules:\n    - if: $A == "x"\nb:\n  script: y\n', { b: "on_success" }, { a: "no rule matched" }],
  ])("%s", (_name, yaml, jobs, excluded) => {
    const result = plan(yaml as string);
    expect(Object.fromEntries(Object.entries(result.jobs).map(([k, v]) => [k, v.when as string]))).toEqual(jobs as Record<string, string>);
    expect(result.excluded).toEqual(excluded);
  });

  test("rules:when: manual is blocking, job-level manual is not; named manual jobs run", () => {
    const yaml = "a:\n  script: x\n  rules:\n    - when: manual\nb:\n  script: y\n  when: manual\nc:\n  script: z\n";
    expect(plan(yaml).excluded).toEqual({ a: 'when: manual (--manual "a" plays it)', b: 'when: manual (--manual "b" plays it)' });
    const named = plan(yaml, BRANCH, {}, ["a", "b"]).jobs;
    expect(named).toMatchObject({ a: { when: "manual", allow_failure: false }, b: { when: "manual", allow_failure: true } });
  });

  test("rule allow_failure and variables apply", () => {
    const yaml = 'a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH\n      allow_failure: true\n      variables:\n        DEPLOY: "yes"\n';
    const p = planRun(readPipeline(parseYamlFile("f", yaml)), { context: context(BRANCH) });
    expect(p.jobs[0]!.job.allowFailure).toBe(true);
    expect(p.jobs[0]!.job.variables).toContainEqual({ key: "DEPLOY", value: "yes", raw: false });
  });

  test("changes: any changed path matching any pattern; no diff means true", () => {
    const yaml = "docs:\n  script: x\n  rules:\n    - changes: ['docs/**/*', '*.md']\ncode:\n  script: y\n  rules:\n    - changes: [src/**/*]\n";
    expect(Object.keys(plan(yaml, BRANCH, { changed: ["docs/guide/a.txt"] }).jobs)).toEqual(["docs"]);
    expect(Object.keys(plan(yaml, BRANCH, { changed: ["README.md", "src/x.ts"] }).jobs).sort()).toEqual(["code", "docs"]);
    expect(Object.keys(plan(yaml, BRANCH, { changed: undefined }).jobs).sort()).toEqual(["code", "docs"]);
  });

  test("exists: a tracked file matching", () => {
    const yaml = "node:\n  script: x\n  rules:\n    - exists: [package.json]\ngo:\n  script: y\n  rules:\n    - exists: ['**/go.mod']\n";
    expect(Object.keys(plan(yaml, BRANCH, { tracked: ["package.json", "src/a.ts"] }).jobs)).toEqual(["node"]);
    expect(Object.keys(plan(yaml, BRANCH, { tracked: ["svc/api/go.mod"] }).jobs)).toEqual(["go"]);
  });
});

describe("workflow:rules (docs/pipeline.md §6.6)", () => {
  test("refuse the pipeline when no rule matches or when: never", () => {
    expect(planError('workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\na:\n  script: x\n')).toBe("Pipeline filtered out by workflow rules.");
    expect(planError("workflow:\n  rules:\n    - when: never\na:\n  script: x\n")).toBe("Pipeline filtered out by workflow rules.");
  });

  test("a matching rule's variables reach the jobs", () => {
    const result = plan('workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == "main"\n      variables:\n        ENV: production\na:\n  script: x\n  rules:\n    - if: $ENV == "production"\n');
    expect(result.workflow).toEqual([{ key: "ENV", value: "production", raw: false }]);
    expect(Object.keys(result.jobs)).toEqual(["a"]);
  });
});

describe("needs (docs/pipeline.md §8.2) and planning errors", () => {
  test("a job with needs waits only for them; without needs for every earlier stage", () => {
    const result = plan("stages: [build, test, deploy]\nb1:\n  stage: build\n  script: x\nb2:\n  stage: build\n  script: x\nt:\n  stage: test\n  needs: [b1]\n  script: x\nd:\n  stage: deploy\n  script: x\ne:\n  stage: deploy\n  needs: []\n  script: x\n");
    expect(result.jobs).toMatchObject({ t: { after: ["b1"] }, d: { after: ["b1", "b2", "t"] }, e: { after: [] } });
  });

  test.each([
    ["an undefined need", "a:\n  script: x\n  needs: [nope]\n", "a job: undefined need: nope"],
    ["a need in a later stage", "a:\n  stage: build\n  script: x\n  needs: [b]\nb:\n  stage: test\n  script: y\n", "a job: need b is not defined in current or prior stages"],
    ["duplicated needs", "a:\n  script: x\nb:\n  script: y\n  needs: [a, a]\n", "b has the following needs duplicated: a."],
    ["a self-dependency", "a:\n  script: x\n  needs: [a]\n", "The pipeline has circular dependencies: self-dependency: a"],
    ["a cycle", "a:\n  script: x\n  needs: [b]\nb:\n  script: y\n  needs: [a]\n", 'The pipeline has circular dependencies: topological sort failed: ["a", "b"]'],
    ["a needed job left out by its rules", "a:\n  script: x\n  rules:\n    - when: never\nb:\n  script: y\n  needs: [a]\n",
      "'b' job needs 'a' job, but 'a' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional."],
    ["rules leaving no job", "a:\n  script: x\n  rules:\n    - when: never\n", "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."],
    ["rules with only", "a:\n  script: x\n  only: [main]\n  rules:\n    - when: always\n", "jobs:a config key may not be used with `rules`: only"],
    ["a bad if", "a:\n  script: x\n  rules:\n    - if: $A = 1\n", "jobs:a:rules:rule if invalid expression syntax"],
    ["a bad rule when", "a:\n  script: x\n  rules:\n    - when: sometimes\n", "jobs:a:rules:rule when unknown value: sometimes"],
    ["an unknown rule key", "a:\n  script: x\n  rules:\n    - iff: $A\n", "jobs:a:rules:rule config contains unknown keys: iff"],
  ])("%s", (_name, yaml, message) => {
    expect(planError(yaml)).toBe(message);
  });

  test("an optional need may be absent", () => {
    expect(plan("a:\n  script: x\n  needs:\n    - job: gone\n      optional: true\n").jobs).toMatchObject({ a: { after: [] } });
  });
});

describe("parallel (docs/pipeline.md §8.6)", () => {
  const names = (yaml: string) => readPipeline(parseYamlFile("f", yaml)).jobs.map((j) => j.name);

  test("parallel: N makes `name i/N` with CI_NODE_INDEX and CI_NODE_TOTAL", () => {
    const jobs = readPipeline(parseYamlFile("f", "test:\n  script: x\n  parallel: 3\n")).jobs;
    expect(jobs.map((j) => j.name)).toEqual(["test 1/3", "test 2/3", "test 3/3"]);
    expect(jobs[1]!.parallel).toEqual({ index: 2, total: 3, group: "test" });
  });

  test("a matrix expands each entry's product, the first key varying slowest, in order", () => {
    expect(names("deploy:\n  script: x\n  parallel:\n    matrix:\n      - PROVIDER: [aws, gcp]\n        STACK: [app, db]\n      - PROVIDER: ovh\n        STACK: 1.0\n")).toEqual([
      "deploy: [aws, app]", "deploy: [aws, db]", "deploy: [gcp, app]", "deploy: [gcp, db]", "deploy: [ovh, 1.0]",
    ]);
    const job = readPipeline(parseYamlFile("f", "d:\n  script: x\n  variables: { PROVIDER: none }\n  parallel:\n    matrix:\n      - PROVIDER: [aws]\n")).jobs[0]!;
    expect(job.variables.at(-1)).toEqual({ key: "PROVIDER", value: "aws", raw: false });
  });

  test("a need on a parallel job waits for every instance", () => {
    const result = plan("stages: [a, b]\nbuild:\n  stage: a\n  script: x\n  parallel: 2\nuse:\n  stage: b\n  needs: [build]\n  script: y\n");
    expect(result.jobs.use!.after).toEqual(["build 1/2", "build 2/2"]);
  });

  test("naming a parallel job runs all its instances", () => {
    const result = plan("build:\n  script: x\n  parallel: 2\nother:\n  script: y\n", BRANCH, {}, ["build"]);
    expect(Object.keys(result.jobs)).toEqual(["build 1/2", "build 2/2"]);
  });

  test("more than 200 instances is an error in GitLab's words", () => {
    expect(() => names("m:\n  script: x\n  parallel:\n    matrix:\n      - A: [" + Array.from({ length: 15 }, (_, i) => i).join(",") + "]\n        B: [" + Array.from({ length: 15 }, (_, i) => i).join(",") + "]\n"))
      .toThrow("jobs:m:parallel:matrix config generates too many jobs (maximum is 200)");
  });
});

describe("only / except (legacy)", () => {
  const TAG = { CI_COMMIT_TAG: "v1.2.0", CI_COMMIT_REF_NAME: "v1.2.0", CI_PIPELINE_SOURCE: "push" };
  const yaml = `
always: { script: x }
main-only: { script: x, only: [main] }
release: { script: x, only: ['/^v\\d+\\.\\d+/'] }
tags-only: { script: x, only: [tags] }
not-main: { script: x, except: [main] }
pushes: { script: x, only: [pushes] }
schedules: { script: x, only: [schedules] }
flagged: { script: x, only: { refs: [branches], variables: ['$DEPLOY == "yes"'] } }
docs: { script: x, only: { changes: ['docs/**/*'] } }
`;

  test("on a branch: names, keywords, sources, variables and changes decide", () => {
    const p = plan(yaml, { ...BRANCH, DEPLOY: "yes" }, { changed: ["src/app.ts"] });
    expect(Object.keys(p.jobs).sort()).toEqual(["always", "flagged", "main-only", "pushes"]);
    expect(p.excluded).toEqual({
      release: "only: did not match", "tags-only": "only: did not match", "not-main": "except: matched",
      schedules: "only: did not match", docs: "only: did not match",
    });
  });

  test("on a tag: regex refs and tags match, a job without only runs (branches and tags by default)", () => {
    const p = plan(yaml, TAG, { changed: ["docs/guide/intro.md"] });
    expect(Object.keys(p.jobs).sort()).toEqual(["always", "docs", "not-main", "pushes", "release", "tags-only"]);
  });

  test("only with rules is GitLab's error", () => {
    expect(planError("a:\n  script: x\n  only: [main]\n  rules:\n    - when: always\n")).toContain("config key may not be used with `rules`: only");
  });
});
