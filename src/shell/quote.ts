/**
 * All shell quoting lives here. A value that needs no quoting is written bare; otherwise bash gets an
 * ANSI-C string (`$'…'`, which can carry any byte, including newlines and escape characters) and
 * POSIX sh gets a single-quoted string.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes `value` as one bash word. */
export function quoteBash(value: string): string {
  if (SAFE.test(value)) return value;
  let out = "$'";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "'") out += "\\'";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}'`;
}

/** Quotes `value` as one POSIX sh word. */
export function quotePosix(value: string): string {
  if (SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be exported by a POSIX shell. */
export function isShellVariableName(name: string): boolean {
  return VARIABLE_NAME.test(name);
}
