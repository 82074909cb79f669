import { describe, expect, test } from "bun:test";
import { quoteBash, quotePosix } from "../../src/shell/quote.ts";

const awkward = ["plain", "", "two words", "it's", 'say "hi"', "$HOME `id` $(id)", "line1\nline2", "tab\there",
  "back\\slash", "\x1b[32;1mcolour\x1b[0;m", "ünïcödé ✓", "glob * ? [a]", "semi; && || | > <", "-dash", "\r"];

describe("quoting", () => {
  test.each([
    ["abc", "abc", "abc"],
    ["a b", "$'a b'", "'a b'"],
    ["it's", "$'it\\'s'", "'it'\\''s'"],
    ["x\ny", "$'x\\ny'", "'x\ny'"],
    ["\x1b[0m", "$'\\x1b[0m'", "'\x1b[0m'"],
    ["", "$''", "''"],
  ])("%j is quoted exactly", (value, bash, posix) => {
    expect(quoteBash(value)).toBe(bash);
    expect(quotePosix(value)).toBe(posix);
  });

  for (const [shell, quote] of [["bash", quoteBash], ["sh", quotePosix]] as const) {
    test(`every awkward value survives a round trip through real ${shell}`, () => {
      const script = awkward.map((v) => `printf '%s\\0' ${quote(v)}`).join("\n");
      const result = Bun.spawnSync([shell, "-c", script]);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.toString().split("\0").slice(0, -1)).toEqual(awkward);
    });
  }
});
