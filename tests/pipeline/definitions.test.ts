import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/pipeline/config-error.ts";
import { readPipeline } from "../../src/pipeline/definitions.ts";
import { parseYamlFile } from "../../src/pipeline/yaml-file.ts";

const load = (text: string) => readPipeline(parseYamlFile(".gitlab-ci.yml", text));

function errorOf(text: string): string {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.describe();
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("reading .gitlab-ci.yml", () => {
  test("default stages, .pre and .post, and a job's default stage test", () => {
    const p = load("a:\n  script: echo a\n");
    expect(p.stages).toEqual([".pre", "build", "test", "deploy", ".post"]);
    expect(p.jobs[0]).toMatchObject({ name: "a", stage: "test", script: ["echo a"], when: "on_success", allowFailure: false });
  });

  test("nested script lists are flattened", () => {
    const p = load("a:\n  script:\n    - one\n    - [two, [three]]\n");
    expect(p.jobs[0]!.script).toEqual(["one", "two", "three"]);
  });

  test("hidden jobs are not jobs, anchors and merge keys work", () => {
    const p = load(`
.base: &base
  before_script: [echo base]
  variables: { FROM: base }
build:
  <<: *base
  script: echo build
`);
    expect(p.jobs.map((j) => j.name)).toEqual(["build"]);
    expect(p.jobs[0]).toMatchObject({ beforeScript: ["echo base"], variables: [{ key: "FROM", value: "base", raw: false }] });
  });

  test("default: keys are copied into jobs that lack them, and top-level before_script too", () => {
    const p = load(`
default:
  after_script: [echo after]
  image: alpine
before_script: [echo global-before]
a:
  script: x
b:
  script: y
  image: debian
  after_script: []
`);
    expect(p.jobs[0]).toMatchObject({ beforeScript: ["echo global-before"], afterScript: ["echo after"], image: { name: "alpine" } });
    expect(p.jobs[1]).toMatchObject({ afterScript: [], image: { name: "debian" } });
  });

  test("extends deep-merges hashes and replaces arrays, with several parents in order", () => {
    const p = load(`
.a:
  variables: { A: "1", SHARED: a }
  script: [from-a]
.b:
  variables: { B: "2", SHARED: b }
job:
  extends: [.a, .b]
  variables: { C: "3" }
`);
    const job = p.jobs[0]!;
    expect(job.script).toEqual(["from-a"]);
    expect(Object.fromEntries(job.variables.map((v) => [v.key, v.value]))).toEqual({ A: "1", SHARED: "b", B: "2", C: "3" });
  });

  test("!reference pulls in other keys, nested, and is flattened in scripts", () => {
    const p = load(`
.setup:
  script: [echo one, echo two]
.more:
  script:
    - !reference [.setup, script]
    - echo three
job:
  script:
    - !reference [.more, script]
    - echo four
`);
    expect(p.jobs[0]!.script).toEqual(["echo one", "echo two", "echo three", "echo four"]);
  });

  test("variables follow YAML 1.1 and Ruby's to_s", () => {
    const p = load(`
variables:
  BOOL: yes
  OCTAL: 012
  FLOAT: 1.0
  INT: 1_000
  SEXAGESIMAL: 1:30
  BIG: 1e20
  HASHED: { value: "v", description: "d" }
  RAW: { value: "$X", expand: false }
job:
  script: x
`);
    expect(Object.fromEntries(p.variables.map((v) => [v.key, v.value]))).toEqual({
      BOOL: "true", OCTAL: "10", FLOAT: "1.0", INT: "1000", SEXAGESIMAL: "90", BIG: "1.0e+20", HASHED: "v", RAW: "$X",
    });
    expect(p.variables.find((v) => v.key === "RAW")?.raw).toBe(true);
  });

  test("duplicate keys keep the last value, as GitLab does", () => {
    expect(load("a:\n  script: one\n  script: two\n").jobs[0]!.script).toEqual(["two"]);
  });

  test("timeout and allow_failure are read", () => {
    const p = load("a:\n  script: x\n  timeout: 1h 30m\n  allow_failure: true\nb:\n  script: y\n  when: manual\n");
    expect(p.jobs[0]).toMatchObject({ timeoutSeconds: 5400, allowFailure: true });
    expect(p.jobs[1]).toMatchObject({ when: "manual", allowFailure: true });
  });
});

describe("errors in GitLab's words, with file, line and column", () => {
  test.each([
    ["bad YAML", "a:\n  script: [unclosed\n", /^\.gitlab-ci\.yml:3:1: /],
    ["a tab-indented key", "a:\n\tscript: x\n", /^\.gitlab-ci\.yml:2:1: /],
    ["an empty file", "", /^\.gitlab-ci\.yml:1:1: Please provide content of \.gitlab-ci\.yml$/],
    ["a list at the top", "- a\n- b\n", /^\.gitlab-ci\.yml:1:1: Invalid configuration format$/],
    ["a job with no script", "ok:\n  script: x\nbuild:\n  stage: build\n",
      /^\.gitlab-ci\.yml:3:1: jobs build config should implement the script:, run:, or trigger: keyword$/],
    ["an unknown keyword", "build:\n  scirpt: x\n  script: y\n",
      /^\.gitlab-ci\.yml:1:1: jobs:build config contains unknown keys: scirpt$/],
    ["an undefined stage", "stages: [build]\nx:\n  stage: deploy\n  script: y\n",
      /^\.gitlab-ci\.yml:2:1: x job: chosen stage deploy does not exist; available stages are \.pre, build, \.post$/],
    ["a bad when", "x:\n  script: y\n  when: sometimes\n",
      /jobs:x when should be one of: on_success, on_failure, always, manual, delayed$/],
    ["a bad script", "x:\n  script: { a: 1 }\n",
      /jobs:x:script config should be a string or a nested array of strings up to 10 levels deep$/],
    ["circular extends", ".a:\n  extends: .b\n.b:\n  extends: .a\nx:\n  extends: .a\n  script: y\n",
      /circular dependency detected in `extends`$/],
    ["extends of an unknown key", "x:\n  extends: .nope\n  script: y\n", /^x: unknown keys in `extends` \(\.nope\)$/],
    ["a missing !reference", "x:\n  script: !reference [.nope, script]\n", /^!reference \["\.nope", "script"\] could not be found$/],
    ["only hidden jobs", ".a:\n  script: x\n", /^jobs config should contain at least one visible job$/],
    ["a top-level image and default image", "image: a\ndefault:\n  image: b\nx:\n  script: y\n",
      /image is defined in top-level and `default:` entry$/],
    ["an unknown tag", "x:\n  script: !shout y\n", /^\.gitlab-ci\.yml:2:\d+: unknown YAML tag/],
    ["a job variable with a description", "x:\n  script: y\n  variables:\n    A: { value: 1, description: d }\n",
      /jobs:x:variables:a config uses invalid data keys: description$/],
  ])("%s", (_name, text, expected) => {
    expect(errorOf(text)).toMatch(expected);
  });

  test("an error every job inherits from default: is one line with the other places, each with file and line", () => {
    const jobs = Array.from({ length: 78 }, (_, i) => `j${i}:\n  script: x\n`).join("");
    const text = errorOf(`default:\n  retry: { max: 1, when: [cosmic_rays] }\n${jobs}`);
    const lines = text.split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\.gitlab-ci\.yml:3:1: retry when contains unknown values: cosmic_rays \(the same in 77 more places: 5:1, 7:1, 9:1, 11:1, 13:1, …\)$/);
  });
});

