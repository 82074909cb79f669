import { parseGoBool } from "./feature-flags.ts";
import { variableValue } from "./variables.ts";

/** `CI_DEBUG_TRACE`, as GitLab Runner reads it (common/build_settings.go). */
export interface DebugTrace {
  /** The stage scripts run under `set -o xtrace`, and the trace is sent with `debug_trace=true`. */
  readonly on: boolean;
  readonly warnings: readonly string[];
}

/**
 * A Go boolean, else a warning and off; a runner with `debug_trace_disabled` refuses it with
 * GitLab Runner's words.
 */
export function debugTrace(variables: readonly { readonly key: string; readonly value: string }[], disabledOnRunner: boolean): DebugTrace {
  const warnings: string[] = [];
  const read = (name: string): boolean => {
    const raw = variableValue(variables, name);
    if (raw === undefined || raw === "") return false;
    const value = parseGoBool(raw);
    if (value === undefined) warnings.push(`${name}: expected bool got "${raw}", using default value: false`);
    return value ?? false;
  };
  const trace = read("CI_DEBUG_TRACE");
  const services = read("CI_DEBUG_SERVICES");
  if (disabledOnRunner) {
    if (trace) warnings.push("CI_DEBUG_TRACE: usage is disabled on this Runner");
    if (services) warnings.push("CI_DEBUG_SERVICES: usage is disabled on this Runner");
    return { on: false, warnings };
  }
  return { on: trace, warnings };
}
