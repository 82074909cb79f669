import { describe, expect, test } from "bun:test";
import type { RunnerConfig } from "../../src/config/config-schema.ts";
import { resetTime } from "../../src/daemon/token-rotation.ts";

const runner = (over: Partial<RunnerConfig>) => ({ feature_flags: {}, ...over }) as RunnerConfig;

describe("when a runner token is reset (commands/multi.go nextRunnerToReset, TokenResetIntervalFactor 0.75)", () => {
  test("at three quarters of its life", () => {
    const obtained = new Date("2026-12-01T00:00:00Z");
    const expires = new Date("2026-12-05T00:00:00Z");
    expect(resetTime(runner({ token_obtained_at: obtained, token_expires_at: expires }))).toBe(Date.parse("2026-12-04T00:00:00Z"));
  });

  test("never for a token that does not expire (Go's zero time), or without dates, or with rotation off", () => {
    const obtained = new Date("2026-12-01T00:00:00Z");
    expect(resetTime(runner({ token_obtained_at: obtained, token_expires_at: new Date("0001-01-01T00:00:00Z") }))).toBeUndefined();
    expect(resetTime(runner({}))).toBeUndefined();
    expect(resetTime(runner({
      token_obtained_at: obtained, token_expires_at: new Date("2026-12-05T00:00:00Z"), feature_flags: { FF_DISABLE_AUTOMATIC_TOKEN_ROTATION: true },
    }))).toBeUndefined();
  });
});
