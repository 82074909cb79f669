import { describe, expect, test } from "bun:test";
import { bytesFrom, concatBytes, copyBytes, EMPTY, indexOfBytes } from "../../src/trace/bytes.ts";

// A pipe's chunks are plain Uint8Arrays, and the trace's filters pass on views of them
// (subarrays with an offset into a larger buffer): the helpers must answer for the view.
const bytes = (text: string) => new TextEncoder().encode(text);

describe("byte helpers on plain Uint8Array views, as a pipe gives them", () => {
  test("indexOfBytes finds a byte and a byte string relative to the view, from a start", () => {
    const whole = bytes("xx#one\n#two\n");
    const view = whole.subarray(2);
    expect(Buffer.isBuffer(view)).toBe(false);
    expect(indexOfBytes(view, 0x23)).toBe(0);
    expect(indexOfBytes(view, 0x23, 1)).toBe(5);
    expect(indexOfBytes(view, bytes("\n#"))).toBe(4);
    expect(indexOfBytes(view, bytes("\n#"), 5)).toBe(-1);
    expect(indexOfBytes(view, 0x0a, 10)).toBe(-1);
  });

  test("copyBytes copies the range of the view, not of the buffer under it", () => {
    const view = bytes("..abcdef").subarray(2);
    const target = new Uint8Array(6);
    expect(copyBytes(view, target, 1, 2, 5)).toBe(3);
    expect(new TextDecoder().decode(target.subarray(1, 4))).toBe("cde");
    expect(target[0]).toBe(0);
    expect(target[4]).toBe(0);
  });

  test("concatBytes returns a lone non-empty part itself, joins several, and is empty for none", () => {
    const a = bytes("ab");
    expect(concatBytes([EMPTY, a, EMPTY])).toBe(a);
    expect(concatBytes([EMPTY, EMPTY])).toBe(EMPTY);
    expect(new TextDecoder().decode(concatBytes([a, EMPTY, bytes("c"), bytes("de")]))).toBe("abcde");
  });

  test("bytesFrom passes a chunk on whole from 0 and gives the rest of it from elsewhere", () => {
    const view = bytes("..abc").subarray(2);
    expect(bytesFrom(view, 0)).toBe(view);
    expect(new TextDecoder().decode(bytesFrom(view, 1))).toBe("bc");
    expect(bytesFrom(view, 3).length).toBe(0);
  });
});
