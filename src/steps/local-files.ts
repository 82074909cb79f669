import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobContext } from "./context.ts";
import { JobFailure } from "./job-failure.ts";
import { expandVariables } from "./variables.ts";

/** The project directory on this machine; archives are made and unpacked by the runner itself. */
export function localProjectDir(ctx: JobContext): string {
  if (!ctx.executor.filesAreLocal) {
    throw new JobFailure(`Artifacts and caches are not available with the ${ctx.executor.name} executor yet`, {
      failureReason: "runner_system_failure", system: true,
    });
  }
  return ctx.executor.directories.projectDir;
}

/** Expands `$VAR` in an artifact or cache setting against the job's variables, as the runner does. */
export function expand(ctx: JobContext, text: string): string {
  const values = new Map(ctx.variables.map((v) => [v.key, v.value]));
  return expandVariables(text, (key) => values.get(key) ?? "");
}

/** A temporary file path for an archive, outside the project directory. */
export function temporaryArchive(name: string): string {
  return join(tmpdir(), `runner-${process.pid}-${crypto.randomUUID()}-${name}`);
}
