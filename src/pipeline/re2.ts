/** A pattern RE2 would refuse, or one this translation cannot give JavaScript the same meaning of. */
export class Re2Error extends Error {
  override readonly name = "Re2Error";
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\x00-\\x7F", blank: "\\t ", cntrl: "\\x00-\\x1F\\x7F", digit: "0-9",
  graph: "!-~", lower: "a-z", print: " -~", punct: "!-/:-@\\[-`{-~", space: "\\t\\n\\v\\f\\r ", upper: "A-Z",
  word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
};

/**
 * An RE2 pattern (GitLab evaluates `=~` in rules and `coverage` with RE2) as a JavaScript RegExp
 * with the same meaning: leading `(?flags)` become flags, `(?P<name>` a named group, `\A` and `\z`
 * the text's ends, `\Q…\E` a literal, `[[:alpha:]]` its characters, `\pL` `\p{L}`. What RE2 has not
 * (lookaround, backreferences) or JavaScript cannot mean the same (`(?U)`) is an error, never a
 * pattern that silently matches otherwise.
 */
export function re2ToRegExp(pattern: string, flags = ""): RegExp {
  let source = pattern;
  let all = flags;
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    all += leading[1];
    source = source.slice(leading[0].length);
  }
  if (all.includes("U")) throw new Re2Error("the U (ungreedy) flag is not supported");
  if (/\(\?[=!]|\(\?<[=!]/.test(source)) throw new Re2Error("RE2 has no lookahead or lookbehind");
  if (/(^|[^\\])(\\\\)*\\[1-9]/.test(source)) throw new Re2Error("RE2 has no backreferences");
  if (/\(\?[imsU]+\)/.test(source)) throw new Re2Error("flags in the middle of a pattern are not supported: put them at its start, or use (?i:…)");
  const translated = translate(source);
  try {
    return new RegExp(translated, [...new Set(all + (/\\p\{/.test(translated) ? "u" : ""))].join(""));
  } catch (error) {
    throw new Re2Error(`invalid regular expression: ${(error as Error).message}`);
  }
}

function translate(source: string): string {
  let out = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1];
      if (next === "Q") {
        const end = source.indexOf("\\E", i + 2);
        const literal = source.slice(i + 2, end === -1 ? source.length : end);
        out += literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        i = end === -1 ? source.length : end + 1;
        continue;
      }
      if (next === "A") {
        out += "(?<![\\s\\S])";
        i++;
        continue;
      }
      if (next === "z") {
        out += "(?![\\s\\S])";
        i++;
        continue;
      }
      if ((next === "p" || next === "P") && source[i + 2] !== "{") {
        out += `\\${next}{${source[i + 2] ?? ""}}`;
        i += 2;
        continue;
      }
      out += c + (next ?? "");
      i++;
      continue;
    }
    if (source.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
      continue;
    }
    if (source.startsWith("[:", i)) {
      const end = source.indexOf(":]", i + 2);
      const name = end === -1 ? undefined : source.slice(i + 2, end);
      const negated = name?.startsWith("^");
      const chars = name ? POSIX_CLASSES[negated ? name.slice(1) : name] : undefined;
      if (chars !== undefined && !negated) {
        out += chars;
        i = end + 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}
