import { isShellVariableName } from "../shell/quote.ts";
import type { ResolvedVariable } from "../job/variables.ts";

/** Linux's `MAX_ARG_STRLEN`: the most one `KEY=value` entry of a process environment may hold. */
export const MAX_ENTRY_BYTES = 32 * 4096;
/** Linux's default `ARG_MAX` (a quarter of the default 8 MiB stack): environment and arguments together. */
export const DEFAULT_ARG_MAX = 2 * 1024 * 1024;

/** Why the job's variables cannot all be exported, and which names cannot be at all. */
export interface EnvironmentCheck {
  /** Limits the environment breaks: every process the job starts would fail with E2BIG. */
  readonly problems: readonly string[];
  /** Names no shell can export (`A B`, `1X`, `A-B`): left out of the environment. */
  readonly unexported: readonly string[];
}

/**
 * What exporting the job's variables would cost each process it starts, checked before anything
 * runs: an entry over `MAX_ENTRY_BYTES`, or all of them over `argMax`, makes every command fail
 * with "Argument list too long" (bash itself may crash first). A file variable costs only its path.
 */
export function checkEnvironment(variables: readonly ResolvedVariable[], tmpDir: string, argMax = DEFAULT_ARG_MAX): EnvironmentCheck {
  const problems: string[] = [];
  const unexported: string[] = [];
  let total = 0;
  for (const v of variables) {
    if (!isShellVariableName(v.key)) {
      unexported.push(v.key);
      continue;
    }
    const bytes = Buffer.byteLength(v.key) + 1 + (v.file ? Buffer.byteLength(`${tmpDir}/${v.key}`) : Buffer.byteLength(v.value)) + 1;
    total += bytes + 8;
    if (bytes > MAX_ENTRY_BYTES) {
      problems.push(`${v.key} is ${bytes} bytes, more than the ${MAX_ENTRY_BYTES} one environment entry may hold (MAX_ARG_STRLEN); make it a file variable`);
    }
  }
  if (total > argMax) {
    problems.push(`the ${variables.length} variables take ${total} bytes of environment, more than the ${argMax} a process may be given (ARG_MAX); pass large values as file variables`);
  }
  return { problems, unexported };
}
