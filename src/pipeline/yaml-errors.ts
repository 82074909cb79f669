import { isAlias, visit, type Document, type LineCounter, type YAMLError } from "yaml";
import { ConfigError } from "./config-error.ts";

/**
 * The `yaml` library's syntax errors in the words GitLab shows for them — libyaml's, through Ruby's
 * Psych (`did not find expected key while parsing a block mapping`) — where the two agree on what
 * is wrong; the library's own text otherwise. The position is ours (where the problem is), not
 * libyaml's context mark.
 */
export function syntaxError(error: YAMLError, file: string, lines: LineCounter): ConfigError {
  const { line, col } = lines.linePos(error.pos[0]);
  return new ConfigError(psychMessage(error.code, plainMessage(error.message)), { file, line, column: col });
}

function psychMessage(code: string, message: string): string {
  if (code === "BAD_INDENT" && message.startsWith("Flow sequence")) return "did not find expected ',' or ']' while parsing a flow sequence";
  if (code === "BAD_INDENT" && message.startsWith("Flow map")) return "did not find expected ',' or '}' while parsing a flow mapping";
  if (code === "BAD_INDENT" && message.startsWith("All mapping items")) return "did not find expected key while parsing a block mapping";
  if (code === "TAB_AS_INDENT") return "found character that cannot start any token while scanning for the next token";
  if (code === "MULTILINE_IMPLICIT_KEY") return "could not find expected ':' while scanning a simple key";
  if (code === "BLOCK_AS_IMPLICIT_KEY" && message.startsWith("Nested mappings")) return "mapping values are not allowed in this context";
  if (code === "BLOCK_AS_IMPLICIT_KEY" && message.startsWith("A block sequence")) return "did not find expected key while parsing a block mapping";
  if (code === "MISSING_CHAR" && /quote/.test(message)) return "found unexpected end of stream while scanning a quoted scalar";
  return message;
}

function plainMessage(message: string): string {
  // The library appends its own "at line L, column C" excerpt; the position is given separately.
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
}

/**
 * An alias to an anchor not defined before it: Psych's `An alias referenced an unknown anchor`, at
 * the alias (the library would only throw a bare error while building values).
 */
export function checkAliases(doc: Document, file: string, lines: LineCounter): void {
  const anchors = new Set<string>();
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      if (!anchors.has(node.source)) {
        const { line, col } = lines.linePos(node.range?.[0] ?? 0);
        throw new ConfigError(`An alias referenced an unknown anchor: ${node.source}`, { file, line, column: col });
      }
      return;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) anchors.add(anchor);
  });
}
