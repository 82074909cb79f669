import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/pipeline/config-error.ts";
import { expandNested } from "../../src/pipeline/nested-expansion.ts";

const values = (vars: { key: string; value: string }[]) => Object.fromEntries(vars.map((v) => [v.key, v.value]));

describe("GitLab's server-side nested expansion", () => {
  test("expands through chains, keeps unknown references and $$", () => {
    const out = expandNested([
      { key: "A", value: "$B/a" },
      { key: "B", value: "${C}b" },
      { key: "C", value: "c" },
      { key: "D", value: "$CI_BUILDS_DIR and $$HOME" },
    ], "job");
    expect(values(out)).toEqual({ A: "cb/a", B: "cb", C: "c", D: "$CI_BUILDS_DIR and $$HOME" });
  });

  test("raw variables and references to file variables stay as written", () => {
    const out = expandNested([
      { key: "RAW", value: "$C", raw: true },
      { key: "USES_RAW", value: "x$RAW" },
      { key: "FILE", value: "content", file: true },
      { key: "USES_FILE", value: "$FILE" },
      { key: "C", value: "c" },
    ], "job");
    expect(values(out)).toEqual({ RAW: "$C", USES_RAW: "x$RAW", FILE: "content", USES_FILE: "$FILE", C: "c" });
  });

  test("the last definition of a key wins", () => {
    expect(values(expandNested([{ key: "A", value: "1" }, { key: "B", value: "$A" }, { key: "A", value: "2" }], "j")).B).toBe("2");
  });

  test("a cycle is an error in GitLab's words", () => {
    expect(() => expandNested([{ key: "A", value: "$B" }, { key: "B", value: "$A" }], "build")).toThrow(
      new ConfigError('build: circular variable reference detected: ["A", "B"]'),
    );
  });
});
