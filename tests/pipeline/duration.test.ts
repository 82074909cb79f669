import { describe, expect, test } from "bun:test";
import { parseDuration } from "../../src/pipeline/duration.ts";
import { parseGoDuration } from "../../src/protocol/go-duration.ts";

describe("durations", () => {
  test.each([
    ["3600", 3600], ["1h 30m", 5400], ["3 hours", 10800], ["90 minutes", 5400], ["2h30m", 9000],
    ["1 day", 86400], ["1 week and 2 days", 777600], ["45s", 45],
  ])("timeout %j is %d seconds", (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  test.each(["", "soon", "1 fortnight", "1h soon"])("timeout %j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test.each([["5m", 300], ["90s", 90], ["1h30m", 5400], ["1.5h", 5400], ["250ms", 0.25]])(
    "Go duration %j is %d seconds", (text, seconds) => expect(parseGoDuration(text)).toBe(seconds),
  );

  test("a bad Go duration is undefined", () => expect(parseGoDuration("5 minutes")).toBeUndefined());
});
