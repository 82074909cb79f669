import { writeVariables, type ScriptEnvironment } from "./prelude.ts";
import { createShellWriter, type ShellName } from "./shell-writer.ts";

/** prepare_script: proves the shell works and says where the job runs. */
export function prepareScript(shell: ShellName, env: ScriptEnvironment): string {
  const w = createShellWriter(shell);
  writeVariables(w, env);
  // bash knows its host name without forking; sh asks hostname(1), as GitLab does.
  w.line(`printf 'Running on %s...\\n' "\${HOSTNAME:-$(hostname 2>/dev/null || uname -n)}"`);
  return w.finish();
}

/**
 * A user script stage (`step_script` = before_script + script, or after_script): exports the
 * variables, enters the project directory and runs each command after echoing it.
 */
export function userScript(
  shell: ShellName,
  env: ScriptEnvironment,
  commands: readonly string[],
  options: { afterScript?: boolean; mark?: (index: number) => string } = {},
): string {
  const w = createShellWriter(shell);
  writeVariables(w, env);
  w.cd(env.projectDir);
  if (options.afterScript) w.notice("Running after script...");
  let index = 0;
  for (const command of commands) {
    if (command.trim() === "") continue;
    index++;
    w.userCommand(command, options.mark?.(index));
  }
  return w.finish();
}

/** cleanup_file_variables: removes the directory the file-type variables were written to. */
export function cleanupScript(shell: ShellName, env: ScriptEnvironment): string {
  const w = createShellWriter(shell);
  w.ifDirectory(env.tmpDir, () => w.rmdir(env.tmpDir));
  return w.finish();
}
