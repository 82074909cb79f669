import { ConfigError, ConfigErrorList } from "./config-error.ts";
import { expandKnown } from "./expand-known.ts";
import { isHash } from "./extends.ts";

type InputType = "string" | "number" | "boolean" | "array";
const TYPES: readonly InputType[] = ["string", "number", "boolean", "array"];
const SPEC_KEYS = ["default", "type", "description", "options", "regex", "rules"];
const BLOCK = /\$\[\[\s*(.*?)\s*\]\]/g;

/**
 * `spec:inputs` and `$[[ inputs.name ]]` (docs/pipeline.md §7.5): checks the given values against the
 * header (required, type, options, regex; unknown names refused), then interpolates the parsed body —
 * a block that is a whole scalar keeps the input's type, inside a longer string it is text. Errors
 * carry GitLab's wording; `where` prefixes them for included files (`` `file.yml`: ``).
 */
export function interpolateInputs(
  file: { readonly header?: unknown; readonly value: unknown },
  options: {
    readonly given: Readonly<Record<string, unknown>>;
    /** The included file, for messages. */
    readonly where?: string;
    /** What `| expand_vars` expands: the include-safe variables. */
    readonly variables?: Readonly<Record<string, string>>;
    /**
     * The values are text (`runner exec --input`), read as YAML would read them for a typed input;
     * `include:inputs` values are typed already, and a string there is never a number or a boolean.
     */
    readonly textual?: boolean;
  },
): unknown {
  const { header, value: body } = file;
  const { given, where = "", variables = {}, textual = false } = options;
  const prefix = where ? `\`${where}\`: ` : "";
  if (header === undefined) {
    if (Object.keys(given).length > 0) {
      throw new ConfigError(`${prefix}Given inputs not defined in the \`spec\` section of the included configuration file`);
    }
    return body;
  }
  const values = inputValues(header, given, prefix, textual);
  const errors: string[] = [];
  const result = walk(body, (text) => interpolate(text, { values, variables }, errors));
  if (errors.length > 0) {
    throw new ConfigError(`${prefix}${[...new Set(errors)].slice(0, 3).join(", ")}`);
  }
  return result;
}

/** The value of every declared input, or every problem with them at once. */
function inputValues(header: unknown, given: Readonly<Record<string, unknown>>, prefix: string, textual: boolean): Map<string, unknown> {
  const spec = isHash(header) && isHash(header.spec) ? header.spec : undefined;
  if (!spec) throw new ConfigError(`${prefix}header:spec config should be a hash`);
  const unknownSpecKeys = Object.keys(spec).filter((k) => k !== "inputs" && k !== "component" && k !== "description");
  if (unknownSpecKeys.length > 0) throw new ConfigError(`${prefix}header:spec config contains unknown keys: ${unknownSpecKeys.join(", ")}`);
  const declared = spec.inputs === undefined || spec.inputs === null ? {} : spec.inputs;
  if (!isHash(declared)) throw new ConfigError(`${prefix}header:spec:inputs config should be a hash`);
  const errors: string[] = [];
  const unknown = Object.keys(given).filter((name) => !(name in declared));
  if (unknown.length > 0) errors.push(`unknown input arguments: ${unknown.join(", ")}`);
  const values = new Map<string, unknown>();
  for (const [name, definition] of Object.entries(declared)) {
    const problem = (text: string) => errors.push(`\`${name}\` input: ${text}`);
    const d = definition === null || definition === undefined ? {} : definition;
    if (!isHash(d)) { problem("input specification should be a hash"); continue; }
    const badKeys = Object.keys(d).filter((k) => !SPEC_KEYS.includes(k));
    if (badKeys.length > 0) { problem(`unknown input specification key: ${badKeys.join(", ")}`); continue; }
    const type = (d.type ?? "string") as InputType;
    if (!TYPES.includes(type)) { problem(`header:spec:inputs:${name} input type unknown value: ${String(d.type)}`); continue; }
    const provided = name in given;
    if (!provided && !("default" in d)) { problem("required value has not been provided"); continue; }
    const value = provided ? (textual ? coerce(given[name], type) : given[name]) : d.default;
    const origin = provided ? "provided" : "default";
    // `default: null`: an optional input with no value (interpolated as nothing).
    if (!provided && value === null) {
      values.set(name, null);
      continue;
    }
    if (!hasType(value, type)) { problem(`${origin} value is not ${type === "array" ? "an array" : `a ${type}`}`); continue; }
    const options = Array.isArray(d.options) ? d.options : undefined;
    const outside = (Array.isArray(value) ? value : [value]).filter((v) => options && !options.some((o) => String(o) === String(v)));
    if (outside.length > 0) {
      problem(`${type === "array" ? outside.join(", ") : `\`${String(value)}\``} cannot be used because it is not in the list of ${type === "number" ? "the " : ""}allowed options`);
      continue;
    }
    if (typeof d.regex === "string" && typeof value === "string") {
      const matches = regexMatches(d.regex, value);
      if (matches === undefined) { problem("invalid regular expression"); continue; }
      if (!matches) { problem(`${origin} value does not match required RegEx pattern`); continue; }
    }
    values.set(name, value);
  }
  if (errors.length > 0) throw new ConfigErrorList(errors.map((e) => new ConfigError(`${prefix}${e}`)));
  return values;
}

/** A value from the command line is text; a typed input reads it as YAML would (`3`, `true`, `[a, b]`). */
function coerce(value: unknown, type: InputType): unknown {
  if (typeof value !== "string" || type === "string") return value;
  if (type === "number") return value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value;
  if (type === "boolean") return value === "true" ? true : value === "false" ? false : value;
  try {
    return JSON.parse(value);
  } catch {
    return value.startsWith("[") ? value : value.split(",").map((v) => v.trim());
  }
}

function hasType(value: unknown, type: InputType): boolean {
  if (type === "array") return Array.isArray(value);
  return typeof value === type;
}

/** Whether `value` matches, or undefined when `pattern` is no regular expression. */
function regexMatches(pattern: string, value: string): boolean | undefined {
  const body = /^\/(.*)\/$/s.exec(pattern)?.[1] ?? pattern;
  try {
    return new RegExp(body).test(value);
  } catch {
    return undefined;
  }
}

/** Every string and mapping key of a parsed document, rewritten. */
function walk(node: unknown, rewrite: (text: string) => unknown): unknown {
  if (typeof node === "string") return rewrite(node);
  if (Array.isArray(node)) return node.map((item) => walk(item, rewrite));
  if (isHash(node)) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [String(rewrite(key)), walk(value, rewrite)]));
  }
  return node;
}

interface Scope {
  readonly values: ReadonlyMap<string, unknown>;
  readonly variables: Readonly<Record<string, string>>;
}

function interpolate(text: string, scope: Scope, errors: string[]): unknown {
  if (!text.includes("$[[")) return text;
  // One block and nothing else keeps the input's type; `$[[ a ]]:$[[ b ]]` is text.
  const whole = /^\$\[\[\s*((?:(?!\]\]).)*?)\s*\]\]$/s.exec(text);
  if (whole && /^matrix\./.test(whole[1]!)) return text;
  if (whole && !whole[1]!.includes("$[[")) return evaluate(whole[1]!, scope, errors);
  return text.replace(BLOCK, (block, inner: string) => {
    // Matrix expressions are the job's own, resolved when its needs are (definitions.ts).
    if (/^matrix\./.test(inner)) return block;
    const value = evaluate(inner, scope, errors);
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

/**
 * `inputs.name`, then at most three functions, left to right: `expand_vars` (the include-safe
 * variables, one level, unknown ones kept) and `truncate(offset,length)`.
 */
function evaluate(block: string, { values, variables }: Scope, errors: string[]): unknown {
  const [access = "", ...functions] = block.split("|").map((part) => part.trim());
  const name = /^inputs\.([A-Za-z0-9_-]+)$/.exec(access)?.[1];
  if (!name || !values.has(name)) {
    errors.push(`unknown interpolation key: \`${name ?? access}\``);
    return "";
  }
  if (functions.length > 3) {
    errors.push("too many functions in interpolation block");
    return "";
  }
  let value = values.get(name);
  for (const fn of functions) {
    const truncate = /^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(fn);
    if (truncate) value = String(value).slice(Number(truncate[1]), Number(truncate[1]) + Number(truncate[2]));
    else if (fn === "expand_vars") {
      value = expandKnown(String(value), (name) => variables[name]);
    } else errors.push(`no function matching \`${fn}\`: check that the function name, arguments, and types are correct`);
  }
  return value;
}
