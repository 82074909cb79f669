import { ANSI } from "../trace/ansi.ts";
import { isShellVariableName, quoteBash, quotePosix } from "./quote.ts";

/** The shells a script can be written for. */
export type ShellName = "bash" | "sh";

/**
 * Builds one stage's script. Data (paths, values, messages) only enters the script through the
 * writer's quoting; `line` is for code the runner itself wrote.
 */
export interface ShellWriter {
  readonly shell: ShellName;
  /** A line of code written by the runner, never user data. */
  line(code: string): void;
  /** A command whose every word is quoted. */
  command(...argv: readonly string[]): void;
  exportVariable(name: string, value: string): void;
  cd(path: string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** Writes `content` to `path`, readable only by the owner (mode 0600). */
  writePrivateFile(path: string, content: string): void;
  /** A plain line of output. */
  print(text: string): void;
  /** A green line of output (GitLab's `Noticef`). */
  notice(text: string): void;
  /** A yellow line of output. */
  warning(text: string): void;
  /** A red line of output. */
  error(text: string): void;
  /** An empty line of output (GitLab Runner's `EmptyLine`, for an empty script line). */
  emptyLine(): void;
  /**
   * A collapsed trace section holding `text` (GitLab Runner's `SectionStart`/`SectionEnd` with
   * `hide_duration=true,collapsed=true`, as FF_SCRIPT_SECTIONS shows a multi-line command).
   */
  collapsedSection(id: string, text: string): void;
  /** A user's command, as it is. */
  userCode(code: string): void;
  /** The lines written so far, without the script's frame (to be run by another writer's `eval`). */
  body(): string;
  /** GitLab Runner's `CheckForErrors` with FF_ENABLE_BASH_EXIT_CODE_CHECK: stop at a non-zero `$?`. */
  checkExitCode(): void;
  /** `if [ -d path ]; then … else … fi` */
  ifDirectory(path: string, then: () => void, otherwise?: () => void): void;
  /** `if command; then … else … fi` for a quoted command. */
  ifCommand(argv: readonly string[], then: () => void, otherwise?: () => void): void;
  /** The same, the command's output hidden (GitLab Runner's `IfCmd`, where `IfCmdWithOutput` shows it). */
  ifQuietCommand(argv: readonly string[], then: () => void, otherwise?: () => void): void;
  /** The finished script, ready to be fed to the shell's standard input. */
  finish(): string;
}

/** A new writer for `shell`. */
export function createShellWriter(shell: ShellName): ShellWriter {
  const quote = shell === "bash" ? quoteBash : quotePosix;
  const lines: string[] = [];
  let depth = 0;
  const emit = (code: string) => lines.push("  ".repeat(depth) + code);
  const block = (body: () => void) => {
    depth++;
    body();
    depth--;
  };
  const echo = (text: string) => emit(`printf '%s\\n' ${quote(text)}`);
  const conditional = (test: string, then: () => void, otherwise?: () => void) => {
    emit(`if ${test}; then`);
    block(then);
    if (otherwise) {
      emit("else");
      block(otherwise);
    }
    emit("fi");
  };

  return {
    shell,
    line: emit,
    command: (...argv) => emit(argv.map(quote).join(" ")),
    exportVariable(name, value) {
      if (!isShellVariableName(name)) return;
      emit(`export ${name}=${quote(value)}`);
    },
    cd: (path) => emit(`cd ${quote(path)}`),
    mkdir: (path) => emit(`mkdir -p ${quote(path)}`),
    rmdir: (path) => emit(`rm -r -f ${quote(path)}`),
    writePrivateFile: (path, content) => emit(`(umask 077 && printf '%s' ${quote(content)} > ${quote(path)})`),
    print: echo,
    notice: (text) => echo(`${ANSI.boldGreen}${text}${ANSI.reset}`),
    warning: (text) => echo(`${ANSI.yellow}${text}${ANSI.reset}`),
    error: (text) => echo(`${ANSI.boldRed}${text}${ANSI.reset}`),
    emptyLine: () => emit("echo"),
    collapsedSection: (id, text) => collapsedSection(emit, quote, id, text),
    userCode: (code) => lines.push(code),
    checkExitCode: () => emit("_runner_exit_code=$?; if [ $_runner_exit_code -ne 0 ]; then exit $_runner_exit_code; fi"),
    ifDirectory: (path, then, otherwise) => conditional(`[ -d ${quote(path)} ]`, then, otherwise),
    ifCommand: (argv, then, otherwise) => conditional(argv.map(quote).join(" "), then, otherwise),
    ifQuietCommand: (argv, then, otherwise) => conditional(`${argv.map(quote).join(" ")} >/dev/null 2>&1`, then, otherwise),
    body: () => lines.join("\n"),
    finish: () => wrapScript(shell, lines),
  };
}

/** A section that shows `text` collapsed, as GitLab Runner prints the commands it runs itself. */
function collapsedSection(emit: (code: string) => void, quote: (text: string) => string, id: string, text: string): void {
  const name = quote(`section_${id}`);
  emit(`printf 'section_start:%s:%s[hide_duration=true,collapsed=true]\\r\\033[0K%s\\n' "$(date +%s)" ${name} ${quote(`${ANSI.boldGreen}${text}${ANSI.reset}`)}`);
  emit(`printf 'section_end:%s:%s\\r\\033[0K\\n' "$(date +%s)" ${name}`);
}

/**
 * The finished script. The shell parses the whole group before running it, and runs it with stdin
 * from /dev/null, so a user's command reading standard input cannot swallow the rest of the script,
 * which arrives on the shell's own standard input. Unlike `: | eval '…'` (GitLab's way) this forks
 * nothing, and keeps the failing command's exit code where bash's eval under `set -e` reports 1.
 * stderr goes where stdout goes, as GitLab Runner's shell executor hands one writer to both: the
 * trace shows the lines in the order they were written, on every executor.
 */
function wrapScript(shell: ShellName, lines: readonly string[]): string {
  const strict = shell === "bash" ? "set -eo pipefail" : "set -e\n(set -o pipefail) 2>/dev/null && set -o pipefail";
  return ["{", strict, "set +o noclobber", ...lines, "} </dev/null 2>&1", "exit", ""].join("\n");
}
