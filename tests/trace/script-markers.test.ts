import { describe, expect, test } from "bun:test";
import { concatBytes, utf8 } from "../../src/trace/bytes.ts";
import { scriptLineMark, scriptMarkFilter } from "../../src/trace/script-markers.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Runs `chunks` through the filter: the text it passes on, and each mark with the text before it. */
function filtered(chunks: readonly Uint8Array[]): { text: string; marks: [number, string][] } {
  const marks: [number, string][] = [];
  const passed: Uint8Array[] = [];
  const filter = scriptMarkFilter((index, before) => {
    passed.push(before);
    marks.push([index, decode(concatBytes(passed.splice(0)))]);
  });
  for (const chunk of chunks) passed.push(filter.write(chunk));
  passed.push(filter.end());
  return { text: decode(concatBytes(passed)), marks };
}

describe("script-line marks (taken out of a stage's output, also when split between writes)", () => {
  const stream = `before\n${scriptLineMark(1)}$ echo one\none\n${scriptLineMark(12)}$ echo \x1b[32mtwo\x1b[0m\ntwo\x1b]7711;runner-lineX\n${scriptLineMark(345678)}end`;
  const whole = filtered([utf8(stream)]);

  test("whole: the marks are gone, each reported with its number and the output before it", () => {
    expect(whole.marks).toEqual([[1, "before\n"], [12, "$ echo one\none\n"], [345678, "$ echo \x1b[32mtwo\x1b[0m\ntwo\x1b]7711;runner-lineX\n"]]);
    expect(whole.text).toBe("end");
  });

  test("split at every place into two writes, and byte by byte: the same marks and text", () => {
    const bytes = utf8(stream);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(filtered([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole);
    }
    expect(filtered(Array.from(bytes, (b) => new Uint8Array([b])))).toEqual(whole);
  });

  test("a chunk ending in the start of the prefix is held until the next write shows what it is", () => {
    const marks: number[] = [];
    const filter = scriptMarkFilter((index) => void marks.push(index));
    expect(decode(filter.write(utf8("out\x1b]77")))).toBe("out");
    expect(decode(filter.write(utf8("11;runner-line=7\x07next")))).toBe("next");
    expect(marks).toEqual([7]);
    // An escape sequence that only begins like the prefix is passed on whole once it differs.
    expect(decode(filter.write(utf8("\x1b]7")))).toBe("");
    expect(decode(filter.write(utf8("2;title\x07")))).toBe("\x1b]72;title\x07");
    // At the end nothing is held back, however it ends.
    expect(decode(filter.write(utf8("tail\x1b]7711;run")))).toBe("tail");
    expect(decode(filter.end())).toBe("\x1b]7711;run");
  });
});
