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

/** Parses a Go duration such as `90s`, `5m`, `1h30m`, `1.5h` into seconds. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/.test(text.trim());
  if (!match) return undefined;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, value, unit] of text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(value) * units[unit!]!;
  return total;
}
