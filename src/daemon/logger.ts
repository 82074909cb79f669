/** The runner's own log, for the operator (never the job trace). Tokens never appear in it. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 0, info: 1, warn: 2, warning: 2, error: 3, fatal: 4, panic: 4 } as const;

/** A logger writing `log_format` lines (`runner`/`text` or `json`) at `log_level` and above. */
export function createLogger(options: {
  level: keyof typeof LEVELS;
  format: "runner" | "text" | "json";
  write: (line: string) => void;
  now?: () => Date;
}): Logger {
  const min = LEVELS[options.level];
  const now = options.now ?? (() => new Date());
  const emit = (level: "debug" | "info" | "warn" | "error", message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return;
    const safe = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, redact(k, v)]));
    if (options.format === "json") {
      options.write(`${JSON.stringify({ level: level === "warn" ? "warning" : level, msg: message, time: now().toISOString(), ...safe })}\n`);
    } else {
      const extra = Object.entries(safe).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
      const label = level === "warn" ? "WARNING" : level.toUpperCase();
      options.write(`${label}: ${message}${extra ? `  ${extra}` : ""}\n`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** Fields named like secrets are shown by their first characters only. */
function redact(key: string, value: unknown): unknown {
  if (typeof value === "string" && /token|password|secret/i.test(key)) return `${value.slice(0, 4)}[REDACTED]`;
  return value;
}
