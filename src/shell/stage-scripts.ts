import { writeVariables, type ScriptEnvironment } from "./prelude.ts";
import { createShellWriter, type ShellName } from "./shell-writer.ts";
import { writeCommands, type CommandStyle } from "./user-commands.ts";

/** prepare_script: proves the shell works and says where the job runs. */
export function prepareScript(shell: ShellName, env: ScriptEnvironment): string {
  const w = createShellWriter(shell);
  writeVariables(w, env);
  // bash knows its host name without forking; sh asks hostname(1), as GitLab does.
  w.line(`printf 'Running on %s...\\n' "\${HOSTNAME:-$(hostname 2>/dev/null || uname -n)}"`);
  return w.finish();
}

/** Commands GitLab Runner writes under one name (`script_step`, `pre_build_script`, …). */
export interface CommandGroup {
  readonly prefix: string;
  readonly commands: readonly string[];
  /** Whether its non-empty commands are numbered for the run record (the job's own script). */
  readonly marked?: boolean;
}

/**
 * A user script stage (`step_script` = before_script + script, or after_script): exports the
 * variables, enters the project directory and runs each command after echoing it, as GitLab
 * Runner's writeUserScript / writeAfterScript (shells/abstract.go). Plain commands are one
 * `script_step` group.
 */
export function userScript(
  shell: ShellName,
  env: ScriptEnvironment,
  commands: readonly CommandGroup[] | readonly string[],
  options: { afterScript?: boolean; style?: CommandStyle } = {},
): string {
  const w = createShellWriter(shell);
  writeVariables(w, env);
  w.cd(env.projectDir);
  if (options.afterScript) w.notice("Running after script...");
  const groups: readonly CommandGroup[] = commands.every((c) => typeof c === "string")
    ? [{ prefix: "script_step", commands: commands as readonly string[], marked: true }]
    : (commands as readonly CommandGroup[]);
  let next = 1;
  for (const group of groups) {
    const { mark, ...rest } = options.style ?? {};
    next += writeCommands(w, group.prefix, group.commands, group.marked && mark ? { ...rest, mark } : rest, next);
  }
  return w.finish();
}

/** cleanup_file_variables: removes the directory the file-type variables were written to. */
export function cleanupScript(shell: ShellName, env: ScriptEnvironment): string {
  const w = createShellWriter(shell);
  w.ifDirectory(env.tmpDir, () => w.rmdir(env.tmpDir));
  return w.finish();
}
