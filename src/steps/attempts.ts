import type { JobContext } from "./context.ts";
import { variableValue } from "../job/variables.ts";

/** Reads an `*_ATTEMPTS` variable: default 1, clamped to 1…10 with a warning (docs/protocol.md §11.2). */
export function attempts(variable: string): (ctx: JobContext) => number {
  return (ctx) => {
    const raw = variableValue(ctx.variables, variable);
    if (raw === undefined || raw === "") return 1;
    const value = Number.parseInt(raw, 10);
    if (Number.isNaN(value) || value < 1 || value > 10) {
      const clamped = Number.isNaN(value) ? 1 : Math.min(10, Math.max(1, value));
      ctx.trace.warning(`${variable}: expected a number between 1 and 10, got '${raw}', using ${clamped}`);
      return clamped;
    }
    return value;
  };
}
