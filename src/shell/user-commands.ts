import { ANSI } from "../trace/ansi.ts";
import { quoteBash, quotePosix } from "./quote.ts";
import { createShellWriter, type ShellWriter } from "./shell-writer.ts";

/** How a stage's user commands are written (the job's feature flags and trace features). */
export interface CommandStyle {
  /** FF_SCRIPT_SECTIONS with the job's `trace_sections`: a multi-line command is a collapsed section showing it whole. */
  readonly scriptSections?: boolean;
  /** FF_ENABLE_BASH_EXIT_CODE_CHECK: each command's exit code is checked, not only `set -e`'s. */
  readonly checkExitCodes?: boolean;
  /** An invisible mark numbering the N-th non-empty command (the runner takes it out of the output). */
  readonly mark?: (index: number) => string;
}

/**
 * GitLab Runner's writeCommands (shells/abstract.go): each command trimmed; an empty one prints an
 * empty line; a one-line one is echoed green (`$ cmd`); a multi-line one shows its first line
 * `# collapsed multi-line command`, or, with script sections, sits whole in a collapsed section
 * `<prefix>_<i>` (i counts every command, empty ones too). Returns how many commands were marked.
 */
export function writeCommands(
  outer: ShellWriter,
  prefix: string,
  commands: readonly string[],
  style: CommandStyle = {},
  firstMark = 1,
): number {
  // The commands run through one `eval`, as GitLab Runner's bash script does: bash parses an eval'd
  // text a command at a time, so a syntax error fails its own line after the ones before it ran
  // (inside the script's `{ … }` group the shell would parse everything first and run nothing).
  const w = createShellWriter(outer.shell);
  let marked = 0;
  commands.forEach((raw, i) => {
    const command = raw.trim();
    if (command === "") {
      w.emptyLine();
    } else {
      if (style.mark) w.line(`printf '%s' ${(w.shell === "bash" ? quoteBash : quotePosix)(style.mark(firstMark + marked++))}`);
      const newline = command.indexOf("\n");
      if (newline === -1) w.print(`${ANSI.boldGreen}$ ${command}${ANSI.reset}`);
      else if (style.scriptSections) w.collapsedSection(`${prefix}_${i}`, `$ ${command}`);
      else w.print(`${ANSI.boldGreen}$ ${command.slice(0, newline)} # collapsed multi-line command${ANSI.reset}`);
      w.userCode(command);
    }
    if (style.checkExitCodes) w.checkExitCode();
  });
  if (commands.length > 0) outer.line(`eval ${(outer.shell === "bash" ? quoteBash : quotePosix)(w.body())}`);
  return marked;
}
