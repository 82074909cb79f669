import { re2ToRegExp } from "../pipeline/re2.ts";
/** ANSI escapes (colours, `\x1b[0K`) and the section markers GitLab's trace carries. */
const ESCAPES = /\x1b\[[0-9;]*[A-Za-z]|section_(?:start|end):\d+:[^\r\n]*?\r/g;

/**
 * GitLab's job coverage from a trace (docs/pipeline.md §8.8, C Gitlab::Ci::Trace::Stream#extract_coverage):
 * from the last line up, the last match of the `coverage` regex in a line (its last capture group when
 * it has groups), and in it the first number — `\d+(?:\.\d+)?`, leading zeros dropped; a line whose
 * match holds no number is passed over. `pattern` is written as in the file, `/…/` with flags.
 */
export function coverageFromTrace(trace: string, pattern: string): number | undefined {
  const parts = /^\/(.*)\/([a-zA-Z]*)$/s.exec(pattern);
  if (!parts) return undefined;
  // RE2, as GitLab evaluates it ((?i) and the rest; the file's pattern was checked when it was read).
  let regex: RegExp;
  try {
    const re2 = re2ToRegExp(parts[1]!, parts[2]!.replace(/[^ims]/g, ""));
    regex = new RegExp(re2.source, `${re2.flags}g`);
  } catch {
    return undefined;
  }
  const lines = trace.replace(ESCAPES, "").split(/\r?\n|\r/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const last = [...lines[i]!.matchAll(regex)].at(-1);
    if (!last) continue;
    // Ruby's scan: with groups, the last group of the last match; else the match itself.
    const fragment = (last.length > 1 ? last[last.length - 1] : last[0]) ?? "";
    const number = /\d+(?:\.\d+)?/.exec(fragment);
    if (number) return Number.parseFloat(number[0]);
  }
  return undefined;
}
