import { quotePosix } from "./quote.ts";
import type { ShellName } from "./shell-writer.ts";

/** How a stage shell is started before its script is known, and what its standard input then carries. */
export interface StdinScript {
  readonly argv: readonly string[];
  /** What is written to the shell's standard input (then closed) for it to run `script`. */
  input(script: string): string;
}

/**
 * From which bash `read -N <count>` is taken: bash 5.2 reads it in blocks (11 reads for a 5.4 KB
 * script, by strace); older ones may read a byte at a time, where cat is quicker, and are not
 * measured here, so they keep cat. Any bash with `read -N` (4.1 on) would be correct: this only
 * chooses the faster road.
 */
const BLOCK_READ_FROM = { major: 5, minor: 2 };

/**
 * The command that runs a stage script arriving on standard input, and how the script is sent.
 *
 * bash reads a script from a pipe or socket one byte per system call (so as not to read past what
 * it runs): ~5 ms for a 4 KB script. So bash is sent the script's length in bytes on a line, then
 * the script, which it reads whole with `read -N` (the C locale makes a character a byte; the result
 * is not split on IFS) and evaluates; its two variables are unset before anything of the script
 * runs. An older bash reads it with cat, started at once (a process more a stage: ~1 ms), and
 * drops the length line. POSIX shells (dash, busybox) read in blocks and need no help. The script
 * itself keeps user commands off that stdin.
 * `--norc --noprofile`: bash given `-c` with a socket on stdin believes sshd started it and would
 * source `~/.bashrc`, bringing a person's shell set-up into the job.
 */
export function stdinScript(
  shell: ShellName,
  options: { joinCgroup?: string | undefined; blockReadFrom?: { major: number; minor: number } } = {},
): StdinScript {
  // The shell's first act: its own pid into the job's cgroup, so that nothing of the script runs
  // outside it. Failing (the cgroup refused it, or is gone), it goes on: the environment marker holds.
  const join = options.joinCgroup ? `{ echo $$ > ${quotePosix(options.joinCgroup)}; } 2>/dev/null\n` : "";
  if (shell !== "bash") return { argv: join ? ["sh", "-c", `${join}exec sh`] : ["sh"], input: (script) => script };
  const from = options.blockReadFrom ?? BLOCK_READ_FROM;
  const version = `BASH_VERSINFO[0] * 1000 + BASH_VERSINFO[1] >= ${from.major * 1000 + from.minor}`;
  const read = [
    `if ((${version})); then`,
    '  LC_ALL=C read -r __runner_script_bytes || exit 70',
    '  LC_ALL=C read -r -N "$__runner_script_bytes" __runner_script',
    "else",
    "  __runner_script=$(cat)",
    "  case $__runner_script in *$'\\n'*) __runner_script=${__runner_script#*$'\\n'} ;; *) __runner_script= ;; esac",
    "fi",
    'eval "unset __runner_script_bytes __runner_script; $__runner_script"',
  ].join("\n");
  return {
    argv: ["bash", "--norc", "--noprofile", "-c", `${join}${read}`],
    input: (script) => `${Buffer.byteLength(script)}\n${script}`,
  };
}
