/**
 * `text` with its control characters written as escapes (`\x1b`, `\x07`), so that a message quoting
 * a file's content, a job name or an argument cannot move the cursor, clear the screen or set the
 * window title. Newlines and tabs stay; so do the colours the runner adds itself, which it writes
 * outside these messages.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}
