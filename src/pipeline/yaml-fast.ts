import { FAILSAFE_SCHEMA, loadAll, Type } from "js-yaml";
import type { ScalarTag } from "yaml";
import { Reference } from "./reference.ts";

/**
 * The fast road through a pipeline file: js-yaml reads it, with the very scalar rules of the
 * `yaml` library's YAML 1.1 schema as GitLab sees them (the same tags' tests and resolvers, so
 * `yes`, `012`, `1.0` and `1:30` come out the same), merge keys, duplicate keys (the last wins) and
 * `!reference` on a sequence of strings. Cold, in a fresh process, it reads 60 KB of pipeline in
 * 16-23 ms where the `yaml` library takes 130 ms (bench/plan.ts).
 *
 * Anything it is not sure to read as the library would — a syntax error, an unknown or explicit
 * tag, a `!reference` that is not a list of names, more than two documents, aliases that expand
 * past what the library allows — gives `undefined`, and the caller reads the file with the library,
 * which then says what is wrong in GitLab's words, with file, line and column.
 */
export function fastYamlReader(tags: readonly ScalarTag[]): (text: string) => unknown[] | undefined {
  const schema = schemaOf(tags);
  return (text) => {
    let documents: unknown[];
    try {
      documents = loadAll(text, undefined, { schema, json: true });
    } catch {
      return undefined;
    }
    if (documents.length > 2 || documents.some((doc) => expandedSize(doc) > MAX_EXPANDED_NODES)) return undefined;
    return documents;
  };
}

/** The library's own guard is 10,000 alias expansions (maxAliasCount); past this the library decides. */
const MAX_EXPANDED_NODES = 200_000;

function schemaOf(tags: readonly ScalarTag[]): ReturnType<typeof FAILSAFE_SCHEMA.extend> {
  // The library resolves a plain scalar with the first default tag whose test matches (compose-scalar.js
  // findScalarTagByTest); js-yaml tries implicit types in order, for plain scalars only: the same rule.
  // Each under a name of its own: js-yaml keeps one type per tag (the library has two for bool,
  // five for int), and an explicit `!!int` then finds none and goes to the library.
  const implicit = tags.filter((tag) => tag.default === true && tag.test !== undefined).map((tag, index) =>
    new Type(`${tag.tag}#${index}`, {
      kind: "scalar",
      resolve: (data: unknown) => typeof data === "string" && tag.test!.test(data),
      construct: (data: string) => scalarValue(tag.resolve(data, () => {}, {} as never)),
    }),
  );
  const reference = new Type("!reference", {
    kind: "sequence",
    resolve: (data: unknown) => Array.isArray(data) && data.length > 0 && data.every((item) => typeof item === "string"),
    construct: (data: string[]) => new Reference(data),
  });
  // A plain `<<` key merges (js-yaml knows the key by this tag, as the library by its plain value).
  const merge = new Type("tag:yaml.org,2002:merge", { kind: "scalar", resolve: (data: unknown) => data === "<<" });
  return FAILSAFE_SCHEMA.extend({ implicit: [merge, ...implicit], explicit: [reference] });
}

/** A resolver's result: a plain value, or a node holding it (the library's floats keep their format so). */
function scalarValue(resolved: unknown): unknown {
  return resolved !== null && typeof resolved === "object" && "value" in resolved && !(resolved instanceof Number) ? (resolved as { value: unknown }).value : resolved;
}

/** How many nodes the value has with its aliases expanded (shared parts counted each time they appear). */
function expandedSize(root: unknown): number {
  const sizes = new Map<object, number>();
  const size = (value: unknown): number => {
    if (value === null || typeof value !== "object" || value instanceof Number || value instanceof Reference) return 1;
    const known = sizes.get(value);
    if (known !== undefined) return known;
    sizes.set(value, 1); // A cycle (an alias inside its own anchor) counts once; the library refuses it.
    let total = 1;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      total += size(child);
      if (total > MAX_EXPANDED_NODES) break;
    }
    sizes.set(value, total);
    return total;
  };
  return size(root);
}

/** Where a top-level key is written: line and column, 1-based, as the library's LineCounter gives them. */
export interface KeyPlace {
  readonly line: number;
  readonly column: number;
}

/**
 * Where the top-level keys of the file's last document are, read from the text: each key written
 * at the start of a line, plain or quoted (the last of duplicates, as the library). Undefined
 * unless that finds exactly the keys `value` has: a merged, anchored, tagged, multi-line or
 * non-string key is left to the library.
 */
export function topLevelKeyPlaces(text: string, documents: number, value: unknown, resolvesAsNonString: (plain: string) => boolean): Map<string, KeyPlace> | undefined {
  const places = new Map<string, KeyPlace>();
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Reference) return places;
  const lines = text.split("\n");
  let first = 0;
  if (documents === 2) for (let i = lines.length - 1; i >= 0; i--) if (/^---(?:\s|$)/.test(lines[i]!)) { first = i + 1; break; }
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "" || /^[\s#%]/.test(line) || /^(?:---|\.\.\.)(?:\s|$)/.test(line) || /^-(?:\s|$)/.test(line)) continue;
    const key = keyAtLineStart(line, resolvesAsNonString);
    if (key === undefined) return undefined;
    if (key !== null) places.set(key, { line: i + 1, column: 1 });
  }
  const keys = Object.keys(value);
  if (keys.length !== places.size || keys.some((key) => !places.has(key))) return undefined;
  return places;
}

/** The key a line starts with; null when the line holds none (a flow continuation); undefined when unsure. */
function keyAtLineStart(line: string, resolvesAsNonString: (plain: string) => boolean): string | null | undefined {
  if (/^[?&*!{[|>@`]/.test(line)) return undefined;
  if (line.startsWith('"')) {
    const match = /^"((?:[^"\\]|\\.)*)"[ \t]*:(?:\s|$)/.exec(line);
    if (!match) return undefined;
    try {
      return JSON.parse(`"${match[1]}"`) as string;
    } catch {
      return undefined;
    }
  }
  if (line.startsWith("'")) {
    const match = /^'((?:[^']|'')*)'[ \t]*:(?:\s|$)/.exec(line);
    return match ? match[1]!.replace(/''/g, "'") : undefined;
  }
  const colon = /:(?:[ \t]|$)/.exec(line);
  if (!colon) return null;
  const key = line.slice(0, colon.index).trimEnd();
  if (key === "" || key === "<<" || /[ \t]#/.test(key) || resolvesAsNonString(key)) return undefined;
  return key;
}
