const UNITS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, wk: 604800, week: 604800, weeks: 604800,
  mo: 2592000, month: 2592000, months: 2592000,
};

/**
 * Parses a human duration as GitLab's `timeout` accepts it (`1h 30m`, `3 hours`, `90 minutes`,
 * `2h30m`, a bare number of seconds) into seconds; undefined when it is not one.
 */
export function parseDuration(text: string): number | undefined {
  const source = text.trim().toLowerCase();
  if (/^\d+$/.test(source)) return Number(source);
  const tokens = [...source.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
  const rest = source.replace(/(\d+(?:\.\d+)?)\s*([a-z]+)/g, "").replace(/[\s,]|and/g, "");
  if (tokens.length === 0 || rest !== "") return undefined;
  let total = 0;
  for (const [, amount, unit] of tokens) {
    const factor = UNITS[unit!];
    if (factor === undefined) return undefined;
    total += Number(amount) * factor;
  }
  return Math.round(total);
}
