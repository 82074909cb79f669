import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { Reference } from "../../src/pipeline/reference.ts";
import { RubyFloat } from "../../src/pipeline/ruby-scalars.ts";
import { fastYamlReader } from "../../src/pipeline/yaml-fast.ts";
import { GITLAB_TAGS, parseWithLibrary, parseYamlFile } from "../../src/pipeline/yaml-file.ts";

/**
 * The fast road (js-yaml with the library's own YAML 1.1 tags) against the `yaml` library's reading,
 * the reference: on every file of the conformance corpus and on YAML 1.1's corner cases, the same
 * values in the same key order, the same spec header, the same job positions; and where it is not
 * sure, it leaves the file to the library.
 */
const readFast = fastYamlReader(GITLAB_TAGS);

/** Values with key order, floats and references made visible, for an exact comparison. */
function shown(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key) {
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof RubyFloat) return { float: raw.valueOf() };
    if (raw instanceof Reference) return { reference: raw.path, invalid: raw.invalid ?? null };
    return raw;
  });
}

/** What both roads must agree on; "refused" when the library throws. */
function reading(read: () => ReturnType<typeof parseYamlFile>): string {
  try {
    const file = read();
    const keys = file.value !== null && typeof file.value === "object" ? Object.keys(file.value) : [];
    return shown({ value: file.value, header: file.header ?? null, positions: keys.map((k) => [k, file.positionOf(k) ?? null]) });
  } catch {
    return "refused";
  }
}

function corpus(): { name: string; text: string }[] {
  const dir = resolve(import.meta.dir, "conformance");
  const texts: { name: string; text: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yml"))) {
    for (const c of parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>[]) {
      const add = (what: string, text: unknown) => typeof text === "string" && texts.push({ name: `${file} ${String(c.name)} ${what}`, text });
      add("ci", c.ci);
      for (const [path, text] of Object.entries((c.files ?? {}) as Record<string, unknown>)) add(path, text);
      for (const key of ["remote", "templates"]) for (const [path, text] of Object.entries((c[key] ?? {}) as Record<string, unknown>)) add(path, text);
      for (const [project, files] of Object.entries((c.projects ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const [path, text] of Object.entries(files)) add(`${project}:${path}`, text);
      }
    }
  }
  return texts;
}

describe("the fast YAML road reads as the yaml library does", () => {
  test("every file of the conformance corpus: the same reading, or left to the library", () => {
    const texts = corpus();
    let fast = 0;
    const differences: string[] = [];
    for (const { name, text } of texts) {
      if (readFast(text) === undefined) continue;
      fast++;
      const mine = reading(() => parseYamlFile("f.yml", text));
      const theirs = reading(() => parseWithLibrary("f.yml", text));
      if (mine !== theirs) differences.push(`${name}\n  fast:    ${mine}\n  library: ${theirs}`);
    }
    expect(differences).toEqual([]);
    // Most files take the fast road: a road nothing takes proves nothing.
    expect(fast).toBeGreaterThan(texts.length * 0.8);
  });

  const vectors: [string, string][] = [
    ["YAML 1.1 booleans as Psych", "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: 'yes'\nh: TRUE\n"],
    ["integers: octal, hex, binary, underscores, base 60", "a: 012\nb: 0x1F\nc: 0b101\nd: 1_000\ne: 1:30\nf: -017\ng: 09\n"],
    ["floats keep Ruby's spelling", "a: 1.0\nb: 1e3\nc: .inf\nd: -.Inf\ne: .NaN\nf: 1.5e-7\ng: 1:30.5\nh: .5\n"],
    ["nulls, empty values, timestamps as text", "a: ~\nb: null\nc:\nd: 2001-12-14\ne: 2001-12-14t21:59:43.10-05:00\n"],
    ["merge keys: own keys win, merged keys keep their place", "x: &x { a: 1, b: 2 }\ny: &y { c: 3 }\nj:\n  b: 9\n  <<: [*x, *y]\n  d: 4\n"],
    ["duplicate keys: the last wins, in the first one's place", "a: 1\nb: 2\na: 3\n"],
    ["aliases and anchors", ".t: &t\n  script: [echo]\njob:\n  <<: *t\n  stage: test\nother: *t\n"],
    ["a valid !reference", ".s: { script: [a] }\nj:\n  script:\n    - !reference [.s, script]\n"],
    ["quoted and odd keys", "'a b': 1\n\"c\\td\": 2\ne:f: 3\n-g: 4\n"],
    ["a spec header", "spec:\n  inputs:\n    n: { default: 1 }\n---\njob:\n  script: echo\n"],
    ["comments and document markers", "# top\n---\na: 1 # one\n\n...\n"],
    ["a flow mapping at the top", "{a: 1, b: [2, 3]}\n"],
  ];
  for (const [name, text] of vectors) {
    test(`${name}: the same reading`, () => {
      expect(reading(() => parseYamlFile("f.yml", text))).toBe(reading(() => parseWithLibrary("f.yml", text)));
    });
  }

  const refusedOrLeft: [string, string][] = [
    ["an unknown tag", "a: !custom x\n"],
    ["a !reference of a mapping", "a: !reference { b: 1 }\n"],
    ["a !reference with a number", "a: !reference [b, 1]\n"],
    ["an alias to no anchor", "a: *nope\n"],
    ["three documents", "a: 1\n---\nb: 2\n---\nc: 3\n"],
    ["a tab as indentation", "a:\n\tb: 1\n"],
    ["an explicit tag", "a: !!int '12'\n"],
    ["aliases expanding past the library's limit", ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 6 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`)].join("\n")],
  ];
  for (const [name, text] of refusedOrLeft) {
    test(`${name}: left to the library, which says what it says`, () => {
      expect(readFast(text)).toBeUndefined();
      expect(reading(() => parseYamlFile("f.yml", text))).toBe(reading(() => parseWithLibrary("f.yml", text)));
    });
  }
});
