import { describe, expect, test } from "bun:test";
import { formatTimestamp, Timestamper } from "../../src/trace/timestamper.ts";

const T = Date.UTC(2026, 10, 22, 19, 58, 7, 123) + 0.456; // …07.123456Z

function stamp(writes: string[], id = 1, type: "O" | "E" = "O") {
  const out: string[] = [];
  const t = new Timestamper({ id, type, now: () => T, write: (b) => out.push(new TextDecoder().decode(b)) });
  for (const w of writes) t.write(new TextEncoder().encode(w));
  t.end();
  return out.join("");
}

const TS = "2026-11-22T19:58:07.123456Z";

describe("Timestamper (docs/protocol.md §9.4)", () => {
  test("formats UTC with microseconds", () => expect(formatTimestamp(T)).toBe(TS));

  test("prefixes each line with timestamp, stream id, type and a space", () => {
    expect(stamp(["a\nb\n"])).toBe(`${TS} 01O a\n${TS} 01O b\n`);
    expect(stamp(["x\n"], 0, "E")).toBe(`${TS} 00E x\n`);
  });

  test("joins a line written in parts under one header", () => {
    expect(stamp(["par", "tial", "\nnext\n"])).toBe(`${TS} 01O partial\n${TS} 01O next\n`);
  });

  test("a section marker (a write with \\r and no \\n) is flushed whole and the next line continues it", () => {
    const out = stamp(["section_start:1:get_sources\r\x1b[0K", "\x1b[0K\x1b[36;1mGetting source\x1b[0;m\x1b[0;m\n"], 0);
    expect(out).toBe(
      `${TS} 00O section_start:1:get_sources\r\x1b[0K\n` + `${TS} 00O+\x1b[0K\x1b[36;1mGetting source\x1b[0;m\x1b[0;m\n`,
    );
  });

  test("a partial line over 8 KiB is flushed and continued with +", () => {
    const long = "x".repeat(9000);
    expect(stamp([long, "end\n"])).toBe(`${TS} 01O ${long}\n${TS} 01O+end\n`);
  });

  test("an unfinished last line is ended with a newline", () => {
    expect(stamp(["no newline"])).toBe(`${TS} 01O no newline\n`);
  });
});
