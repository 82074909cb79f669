import type { ResolvedVariable } from "../job/variables.ts";
import { fileVariablePath } from "../job/variables.ts";
import { quotePosix } from "./quote.ts";
import type { ShellWriter } from "./shell-writer.ts";

/** What every stage script of one job starts from. */
export interface ScriptEnvironment {
  /** The project directory (`CI_PROJECT_DIR`). */
  readonly projectDir: string;
  /** Where file-type variables are written (`RUNNER_TEMP_PROJECT_DIR`). */
  readonly tmpDir: string;
  readonly variables: readonly ResolvedVariable[];
  /** CI_DEBUG_TRACE: the script traces every command it runs (`set -o xtrace`), exports included. */
  readonly xtrace?: boolean;
  /** Directories put before `PATH` (`##vso[task.prependpath]`), latest first. */
  readonly pathPrepend?: readonly string[];
}

/**
 * Makes a stage script self-contained: writes the file-type variables (mode 0600) and exports every
 * variable; a file variable's value is the path of its file.
 */
export function writeVariables(w: ShellWriter, env: ScriptEnvironment): void {
  if (env.xtrace) w.line("set -o xtrace");
  const files = env.variables.filter((v) => v.file);
  if (files.length > 0) w.mkdir(env.tmpDir);
  for (const variable of env.variables) {
    if (variable.file) {
      const path = fileVariablePath(env.tmpDir, variable.key);
      w.writePrivateFile(path, variable.value);
      w.exportVariable(variable.key, path);
    } else {
      w.exportVariable(variable.key, variable.value);
    }
  }
  if (env.pathPrepend?.length) w.line(`export PATH=${env.pathPrepend.map(quotePosix).join(":")}:"$PATH"`);
}
