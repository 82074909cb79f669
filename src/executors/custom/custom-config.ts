import { z } from "../../zod-jitless.ts";
import type { RunnerConfig } from "../../config/config-schema.ts";
import { JobFailure } from "../../protocol/job-failure.ts";

const seconds = z.number().int().optional();
const args = z.array(z.string()).optional();

/** `[runners.custom]` as GitLab Runner reads it (common/config.go CustomConfig; docs/executors/custom.md). */
const customSchema = z.object({
  config_exec: z.string().optional(), config_args: args, config_exec_timeout: seconds,
  prepare_exec: z.string().optional(), prepare_args: args, prepare_exec_timeout: seconds,
  run_exec: z.string().optional(), run_args: args,
  cleanup_exec: z.string().optional(), cleanup_args: args, cleanup_exec_timeout: seconds,
  graceful_kill_timeout: seconds, force_kill_timeout: seconds,
});

/** One of the driver's executables, with its arguments. */
export interface DriverExecutable {
  readonly path: string;
  readonly args: readonly string[];
}

/** The custom executor's settings, with GitLab Runner's defaults (executors/custom/consts.go). */
export interface CustomSettings {
  readonly config?: DriverExecutable & { readonly timeoutMs: number };
  readonly prepare?: DriverExecutable & { readonly timeoutMs: number };
  readonly run: DriverExecutable;
  readonly cleanup?: DriverExecutable & { readonly timeoutMs: number };
  /** After TERM, how long before KILL (graceful_kill_timeout, 10 minutes). */
  readonly gracefulKillMs: number;
  /** After KILL, how long before the process is given up on (force_kill_timeout, 10 seconds). */
  readonly forceKillMs: number;
}

const HOUR_MS = 3_600_000;

/** Reads `[runners.custom]`; what is missing or wrong fails the job with the key's path, as a configuration error. */
export function customSettings(runner: RunnerConfig): CustomSettings {
  if (runner.custom === undefined) fail("custom executor not configured: [runners.custom] is missing");
  const parsed = customSchema.safeParse(runner.custom);
  if (!parsed.success) {
    fail(parsed.error.issues.map((i) => `[runners.custom] ${i.path.join(".")}: ${i.message}`).join("; "));
  }
  const c = parsed.data;
  if (!c.run_exec) fail("custom executor is missing RunExec: set [runners.custom] run_exec");
  const timed = (path: string | undefined, list: string[] | undefined, timeout: number | undefined) =>
    path ? { path, args: list ?? [], timeoutMs: durationMs(timeout, HOUR_MS) } : undefined;
  const config = timed(c.config_exec, c.config_args, c.config_exec_timeout);
  const prepare = timed(c.prepare_exec, c.prepare_args, c.prepare_exec_timeout);
  const cleanup = timed(c.cleanup_exec, c.cleanup_args, c.cleanup_exec_timeout);
  return {
    ...(config ? { config } : {}), ...(prepare ? { prepare } : {}), ...(cleanup ? { cleanup } : {}),
    run: { path: c.run_exec, args: c.run_args ?? [] },
    gracefulKillMs: durationMs(c.graceful_kill_timeout, 10 * 60_000),
    forceKillMs: durationMs(c.force_kill_timeout, 10_000),
  };
}

/** A timeout in seconds; missing or not positive means the default (executors/custom/config.go getDuration). */
function durationMs(value: number | undefined, fallbackMs: number): number {
  return value === undefined || value <= 0 ? fallbackMs : value * 1000;
}

function fail(message: string): never {
  throw new JobFailure(message, { failureReason: "configuration_error" });
}
