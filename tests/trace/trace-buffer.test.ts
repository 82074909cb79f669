import { describe, expect, test } from "bun:test";
import { TraceBuffer } from "../../src/trace/trace-buffer.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe("TraceBuffer (docs/protocol.md §6.5)", () => {
  test("stores bytes, counts them, and checksums them with CRC32", () => {
    const buffer = new TraceBuffer();
    buffer.write(enc("hello "));
    buffer.write(enc("world"));
    expect(buffer.size).toBe(11);
    expect(buffer.checksum).toBe(`crc32:${Bun.hash.crc32("hello world").toString(16).padStart(8, "0")}`);
    expect(dec(buffer.read(6, 100))).toBe("world");
    buffer.close();
  });

  test("replaces invalid UTF-8 with U+FFFD, also across writes", () => {
    const buffer = new TraceBuffer();
    buffer.write(new Uint8Array([0x61, 0xff, 0x62]));
    buffer.write(new Uint8Array([0xe2, 0x82])); // the start of "€"
    buffer.write(new Uint8Array([0xac, 0x0a])); // its end
    buffer.write(new Uint8Array([0xc3])); // a start that never ends…
    buffer.write(enc("z")); // …followed by ASCII
    buffer.flush();
    expect(dec(buffer.read(0, 100))).toBe("a\uFFFDb€\n\uFFFDz");
    buffer.close();
  });

  // GitLab Runner stores the trace through golang.org/x/text's encoding.Replacement encoder over
  // utf8.DecodeRune: each byte that starts no valid sequence is one U+FFFD (a browser's decoder
  // would give one U+FFFD for a truncated sequence).
  test("replaces invalid UTF-8 byte by byte, as Go's replacement encoder does", () => {
    const cases: [number[][], string][] = [
      [[[0xe2, 0x82, 0x41]], "\uFFFD\uFFFDA"], // a truncated € before ASCII: two bytes, two replacements
      [[[0xf0, 0x9f, 0x98]], "\uFFFD\uFFFD\uFFFD"], // a truncated emoji at the end
      [[[0xed, 0xa0, 0x80]], "\uFFFD\uFFFD\uFFFD"], // a UTF-16 surrogate
      [[[0xc0, 0x80]], "\uFFFD\uFFFD"], // an overlong NUL
      [[[0xf0], [0x9f], [0x98], [0x80]], "😀"], // a valid emoji one byte per write
      [[[0xf0, 0x9f], [0x41]], "\uFFFD\uFFFDA"], // a split start that turns out wrong
    ];
    for (const [writes, expected] of cases) {
      const buffer = new TraceBuffer();
      for (const w of writes) buffer.write(new Uint8Array(w));
      buffer.flush();
      expect(dec(buffer.read(0, 100))).toBe(expected);
      buffer.close();
    }
  });

  test("cuts at the output limit without splitting a character, adds GitLab's notice once, drops the rest", () => {
    const buffer = new TraceBuffer({ limit: 10 });
    buffer.write(enc("123456789é")); // 11 bytes: the cut at 10 would split é
    buffer.write(enc("more"));
    const text = dec(buffer.read(0, 1000));
    expect(text).toBe(
      "123456789\n\x1b[33;1mJob's log exceeded limit of 10 bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n",
    );
    expect(buffer.size).toBe(enc(text).length);
    expect(buffer.checksum).toBe(`crc32:${Bun.hash.crc32(text).toString(16).padStart(8, "0")}`);
    buffer.close();
  });
});
