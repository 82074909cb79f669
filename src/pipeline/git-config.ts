import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Reads plain git configuration files (system, global, repository; later wins) into `section.key`
 * or `section.subsection.key` entries, section and key names lowercased as git does. Answers
 * undefined when git itself must be asked: an `[include]`, a line it cannot read, or a repository
 * whose `.git` is a file (a worktree or submodule).
 */
export function readPlainGitConfig(repoRoot: string | undefined, env: Record<string, string>): Map<string, string> | undefined {
  const home = env.HOME ?? "";
  const files = [
    env.GIT_CONFIG_NOSYSTEM ? undefined : "/etc/gitconfig",
    join(env.XDG_CONFIG_HOME || join(home, ".config"), "git", "config"),
    home ? join(home, ".gitconfig") : undefined,
  ];
  if (repoRoot !== undefined) {
    const dotGit = join(repoRoot, ".git");
    if (!statSync(dotGit, { throwIfNoEntry: false })?.isDirectory()) return undefined;
    files.push(join(dotGit, "config"));
  }
  if (env.GIT_CONFIG_GLOBAL || env.GIT_CONFIG_SYSTEM || env.GIT_CONFIG_COUNT) return undefined;
  const values = new Map<string, string>();
  for (const file of files) {
    if (file === undefined || !existsSync(file)) continue;
    if (!parseInto(readFileSync(file, "utf8"), values)) return undefined;
  }
  return values;
}

const SECTION = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(?:[#;].*)?$/;
const ENTRY = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/;

function parseInto(text: string, values: Map<string, string>): boolean {
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = SECTION.exec(line);
    if (header) {
      const name = header[1]!.toLowerCase();
      if (name === "include" || name === "includeif") return false;
      section = header[2] === undefined ? name : `${name}.${header[2].replace(/\\(.)/g, "$1")}`;
      continue;
    }
    const entry = ENTRY.exec(line);
    if (!entry || section === undefined) return false;
    // A key without a value is boolean true to git, but `git config --get` prints it as empty.
    const value = entry[2] === undefined ? "" : unquote(entry[2]);
    if (value === undefined) return false;
    values.set(`${section}.${entry[1]!.toLowerCase()}`, value);
  }
  return true;
}

/** A value with its quotes and escapes resolved and a trailing comment dropped; undefined if unreadable. */
function unquote(text: string): string | undefined {
  let out = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\") {
      const next = text[++i];
      if (next === undefined) return undefined;
      out += next === "n" ? "\n" : next === "t" ? "\t" : next === "b" ? "\b" : next;
    } else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === "#" || c === ";")) break;
    else out += c;
  }
  return quoted ? undefined : out.trimEnd();
}
