import { tmpdir } from "node:os";
import { join } from "node:path";
import { localFiles } from "../executors/local-files.ts";
import { localUntrackedFiles } from "./archive/collect.ts";
import type { JobContext } from "./context.ts";
import { expandVariables } from "../job/variables.ts";

/** Expands `$VAR` in an artifact or cache setting against the job's variables, as the runner does. */
export function expand(ctx: JobContext, text: string): string {
  const values = new Map(ctx.variables.map((v) => [v.key, v.value]));
  return expandVariables(text, (key) => values.get(key) ?? "");
}

/** A temporary file path for an archive, on this machine, outside any build directory. */
export function temporaryArchive(name: string): string {
  return join(tmpdir(), `runner-${process.pid}-${crypto.randomUUID()}-${name}`);
}

/** How to list untracked files when a job asks for them: git on this machine; elsewhere, with a warning, not at all. */
export function untrackedLister(ctx: JobContext, wanted: boolean | undefined): (() => Promise<readonly string[]>) | undefined {
  if (!wanted) return undefined;
  if (ctx.executor.files === localFiles) return () => localUntrackedFiles(ctx.executor.directories.projectDir);
  ctx.trace.warning(`untracked: files cannot be listed with the ${ctx.executor.name} executor yet; only paths are taken`);
  return undefined;
}
