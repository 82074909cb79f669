import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Schema, type Document, type Node, type ScalarTag, type Tags } from "yaml";
import { ConfigError, type SourcePosition } from "./config-error.ts";
import { checkAliases, syntaxError } from "./yaml-errors.ts";
import { Reference } from "./reference.ts";
import { RubyFloat } from "./ruby-scalars.ts";
import { fastYamlReader, topLevelKeyPlaces } from "./yaml-fast.ts";

const referenceTag = {
  tag: "!reference",
  collection: "seq",
  resolve(seq: unknown) {
    const items = isSeq(seq) ? seq.items : [];
    const strings = items.every((item) => isScalar(item) && typeof item.value === "string");
    if (!strings || items.length === 0) return new Reference([], String(seq));
    return new Reference(items.map((item) => String((item as { value: unknown }).value)));
  },
} as unknown as ScalarTag;

/** `!reference` on a scalar or a mapping: kept, to be refused with GitLab's "is not valid". */
const invalidReferenceTags = [
  { tag: "!reference", resolve: (text: string) => new Reference([], text) },
  { tag: "!reference", collection: "map", resolve: (map: unknown) => new Reference([], String(map)) },
] as unknown as ScalarTag[];

const FLOAT = "tag:yaml.org,2002:float";
const TIMESTAMP = "tag:yaml.org,2002:timestamp";
const BOOL = "tag:yaml.org,2002:bool";
const TRUE = /^(?:[Yy][Ee][Ss]|[Tt][Rr][Uu][Ee]|[Oo][Nn])$/;
const FALSE = /^(?:[Nn][Oo]|[Ff][Aa][Ll][Ss][Ee]|[Oo][Ff][Ff])$/;

/**
 * YAML 1.1's tags as GitLab sees them: floats keep their Ruby spelling, timestamps stay strings (the
 * runner only ever needs their text), and `!reference` is known.
 */
function gitlabTags(tags: Tags): Tags {
  const kept = (tags as ScalarTag[]).filter((t) => t.tag !== TIMESTAMP).map((t) => {
    // Psych knows yes/true/on and no/false/off in any case, but not y/n (YAML 1.1 lists those too).
    if (t.tag === BOOL) return { ...t, test: t.test?.test("true") ? TRUE : FALSE };
    if (t.tag !== FLOAT) return t;
    const resolve = t.resolve.bind(t);
    return {
      ...t,
      resolve: (...args: Parameters<typeof resolve>) => {
        const resolved = resolve(...args);
        return new RubyFloat(Number(isScalar(resolved) ? resolved.value : resolved));
      },
    };
  });
  return [...kept, referenceTag, ...invalidReferenceTags] as Tags;
}

/** A parsed YAML file that can say where its top-level keys are. */
export interface YamlFile {
  readonly file: string;
  readonly value: unknown;
  /** The `spec:` header document (inputs) when the file has one. */
  readonly header?: unknown;
  /** Where a top-level key (a job name) is written. */
  positionOf(key: string): SourcePosition | undefined;
}

/**
 * Parses `text` as GitLab does: YAML 1.1 scalars, `<<` merge keys, duplicate keys allowed (the last
 * wins), and the `!reference` tag. A syntax error names file, line and column.
 */
export function parseYamlFile(file: string, text: string): YamlFile {
  const documents = readFast(text);
  if (documents === undefined) return parseWithLibrary(file, text);
  const value = documents.length === 0 ? null : documents[documents.length - 1];
  let positions: ReadonlyMap<string, SourcePosition> | undefined;
  const positionOf = (key: string) => {
    positions ??= keyPositions(file, text, documents.length, value) ?? parseWithLibrary(file, text).positions;
    return positions.get(key);
  };
  return { file, value, positionOf, ...(documents.length === 2 ? { header: documents[0] } : {}) };
}

/** The tags the library reads with, and the fast road's reader made of the same tags. */
export const GITLAB_TAGS = new Schema({ schema: "yaml-1.1", merge: true, customTags: gitlabTags }).tags as ScalarTag[];
const readFast = fastYamlReader(GITLAB_TAGS);
const NON_STRING_TAGS = GITLAB_TAGS.filter((tag) => tag.default === true && tag.test !== undefined);

function keyPositions(file: string, text: string, documents: number, value: unknown): Map<string, SourcePosition> | undefined {
  const places = topLevelKeyPlaces(text, documents, value, (plain) => NON_STRING_TAGS.some((tag) => tag.test!.test(plain)));
  return places && new Map([...places].map(([key, place]) => [key, { file, ...place }]));
}

/**
 * The `yaml` library's reading: the reference the fast road agrees with (tests/pipeline/yaml-fast.test.ts),
 * and the one that explains what is wrong with a file.
 */
export function parseWithLibrary(file: string, text: string): YamlFile & { readonly positions: ReadonlyMap<string, SourcePosition> } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: "1.1",
    merge: true,
    uniqueKeys: false,
    customTags: gitlabTags,
    lineCounter,
    prettyErrors: false,
  });
  const documents: Document[] = Array.isArray(parsed) ? parsed : [];
  for (const doc of documents) {
    const first = doc.errors[0];
    if (first) throw syntaxError(first, file, lineCounter);
    checkAliases(doc, file, lineCounter);
    const unknownTag = doc.warnings.find((w) => w.code === "TAG_RESOLVE_FAILED");
    if (unknownTag) {
      const { line, col } = lineCounter.linePos(unknownTag.pos[0]);
      throw new ConfigError(`unknown YAML tag: ${unknownTag.message}`, { file, line, column: col });
    }
  }
  if (documents.length > 2) {
    const { line, col } = lineCounter.linePos(documents[2]!.range?.[0] ?? 0);
    throw new ConfigError("a file has at most two documents: the spec header, then the configuration", { file, line, column: col });
  }
  // Two documents: a `spec:` header (inputs), then the configuration.
  const header = documents.length === 2 ? toValue(documents[0]!, file) : undefined;
  const doc = documents[documents.length - 1];
  const positions = new Map<string, SourcePosition>();
  if (doc && isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const key = pair.key as Node | null;
      if (isScalar(key) && key.range) {
        const { line, col } = lineCounter.linePos(key.range[0]);
        positions.set(String(key.value), { file, line, column: col });
      }
    }
  }
  return {
    file, value: doc ? toValue(doc, file) : null, positionOf: (key) => positions.get(key), positions,
    ...(header !== undefined ? { header } : {}),
  };
}

/** The document's values; what the library refuses while building them (a bad merge) is bad input. */
function toValue(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 10000 });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error), { file, line: 1, column: 1 });
  }
}
