/** Go's `time.Duration`, as GitLab Runner prints and reads it (config.toml, trace lines). */

/** Go's `time.Duration.String()` for whole seconds, e.g. 3600 → `1h0m0s`, 90 → `1m30s`. */
export function goDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Go's `time.Duration.String()` to the millisecond, e.g. 6234 → `6.234s`, 75500 → `1m15.5s`. */
export function goDurationMs(totalMs: number): string {
  const ms = Math.max(0, Math.round(totalMs));
  if (ms < 1000) return `${ms}ms`;
  const whole = goDuration(Math.floor(ms / 1000));
  const fraction = ms % 1000;
  return fraction === 0 ? whole : whole.replace(/s$/, `.${String(fraction).padStart(3, "0").replace(/0+$/, "")}s`);
}

/** Parses a Go duration such as `90s`, `5m`, `1h30m`, `1.5h` into seconds. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/.test(text.trim());
  if (!match) return undefined;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, value, unit] of text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(value) * units[unit!]!;
  return total;
}
