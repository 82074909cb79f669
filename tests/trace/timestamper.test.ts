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

describe("the line header's timestamp (written digit by digit, its date formatted once a second)", () => {
  test("is formatTimestamp's, write after write, across microseconds, milliseconds, seconds and days", () => {
    // Steps of every size from a microsecond to more than a day, some landing on a second's edge.
    const steps = [0.001, 0.0007, 0.013, 0.5, 1, 7.3, 999.999, 1000, 1, 86_400_000, 0.001, 59_999.9995, 123.456789];
    let now = Date.UTC(2026, 11, 31, 23, 59, 59, 998) + 0.0005;
    const lines: string[] = [];
    const stamper = new Timestamper({ id: 1, type: "O", now: () => now, write: (b) => lines.push(new TextDecoder().decode(b)) });
    const expected: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const step of steps) {
        now += step;
        stamper.write(new TextEncoder().encode("x\n"));
        expected.push(`${formatTimestamp(now)} 01O x\n`);
      }
    }
    expect(lines).toEqual(expected);
  });
});
