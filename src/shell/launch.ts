import type { ShellName } from "./shell-writer.ts";

/**
 * The command that runs a stage script arriving on standard input. bash reads a script from a pipe
 * or socket one byte per system call (so as not to read past what it runs): ~5 ms for a 4 KB
 * script. Reading it whole with cat and evaluating it takes ~2 ms; the script itself already keeps
 * user commands off that stdin. POSIX shells (dash, busybox) read in blocks and need no help.
 * `--norc --noprofile`: bash given `-c` with a socket on stdin believes sshd started it and would
 * source `~/.bashrc`, bringing a person's shell set-up into the job.
 */
export function stdinScriptCommand(shell: ShellName): string[] {
  return shell === "bash" ? ["bash", "--norc", "--noprofile", "-c", 'eval "$(cat)"'] : ["sh"];
}
