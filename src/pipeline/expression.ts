/**
 * GitLab's `rules:if` expression language (docs/pipeline.md §6.3): the lexemes in GitLab's order,
 * shunting-yard with its precedences, and evaluation on values that behave as Ruby's do.
 */

import { re2ToRegExp, Re2Error } from "./re2.ts";

/** The expression does not lex or parse; GitLab says `invalid expression syntax`. */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
}

type Value = string | boolean | null | { regex: RegExp } | { matched: boolean };

type Token =
  | { kind: "open" }
  | { kind: "close" }
  | { kind: "value"; value: (lookup: Lookup) => Value }
  | { kind: "op"; op: Operator };

type Operator = "==" | "!=" | "=~" | "!~" | "&&" | "||" | "!";
type Lookup = { variable(name: string): string | null; input(name: string): string | null };

const PRECEDENCE: Record<Operator, number> = { "!": 1, "==": 10, "!=": 10, "=~": 10, "!~": 10, "&&": 11, "||": 12 };
const MAX_TOKENS = 100;

const LEXEMES: readonly [RegExp, (m: RegExpExecArray) => Token][] = [
  [/^\(/, () => ({ kind: "open" })],
  [/^\)/, () => ({ kind: "close" })],
  [/^\$\[\[\s*inputs\.(\w+)\s*\]\]/, (m) => ({ kind: "value", value: (l) => l.input(m[1]!) })],
  [/^\$(\w+)/, (m) => ({ kind: "value", value: (l) => l.variable(m[1]!) })],
  [/^"(.*?)"|^'(.*?)'/, (m) => ({ kind: "value", value: () => m[1] ?? m[2] ?? "" })],
  [/^\/((?:[^/]|\\\/)+[^\\])\/([ismU]*)/, (m) => {
    const regex = compile(m[1]!, m[2]!);
    return { kind: "value", value: () => ({ regex }) };
  }],
  [/^null/, () => ({ kind: "value", value: () => null })],
  [/^(true|false)\b/, (m) => ({ kind: "value", value: () => m[1] === "true" })],
  [/^==/, () => ({ kind: "op", op: "==" })],
  [/^=~/, () => ({ kind: "op", op: "=~" })],
  [/^!=/, () => ({ kind: "op", op: "!=" })],
  [/^!~/, () => ({ kind: "op", op: "!~" })],
  [/^&&/, () => ({ kind: "op", op: "&&" })],
  [/^\|\|/, () => ({ kind: "op", op: "||" })],
  [/^!/, () => ({ kind: "op", op: "!" })],
];

/** A parsed expression, ready to evaluate against variables. */
export interface Expression {
  evaluate(variables: Readonly<Record<string, string>>, inputs?: Readonly<Record<string, string>>): boolean;
}

/** Lexes and parses `text`; throws {@link ExpressionError} as GitLab's linter refuses it. */
export function parseExpression(text: string): Expression {
  const rpn = toRpn(lex(text));
  // GitLab also evaluates once without variables at config time: a structural error shows there.
  run(rpn, { variable: () => null, input: () => null });
  return {
    evaluate(variables, inputs = {}) {
      try {
        return present(run(rpn, {
          variable: (name) => (Object.hasOwn(variables, name) ? variables[name]! : null),
          input: (name) => (Object.hasOwn(inputs, name) ? inputs[name]! : null),
        }));
      } catch {
        return false;
      }
    },
  };
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let rest = text;
  for (;;) {
    rest = rest.replace(/^\s+/, "");
    if (rest === "") return tokens;
    const lexeme = LEXEMES.find(([pattern]) => pattern.test(rest));
    if (!lexeme) throw new ExpressionError("Unknown lexeme found!");
    const match = lexeme[0].exec(rest)!;
    tokens.push(lexeme[1](match));
    if (tokens.length > MAX_TOKENS) throw new ExpressionError("Too many tokens!");
    rest = rest.slice(match[0].length);
  }
}

type RpnItem = { kind: "value"; value: (l: Lookup) => Value } | { kind: "op"; op: Operator };

/** Shunting-yard: operators of equal or tighter precedence are output first (left-associative). */
function toRpn(tokens: readonly Token[]): RpnItem[] {
  const out: RpnItem[] = [];
  const stack: ({ kind: "open" } | { kind: "op"; op: Operator })[] = [];
  for (const token of tokens) {
    if (token.kind === "value") out.push(token);
    else if (token.kind === "open") stack.push(token);
    else if (token.kind === "close") {
      while (stack.length > 0 && stack.at(-1)!.kind !== "open") out.push(stack.pop() as RpnItem);
      if (stack.length === 0) throw new ExpressionError("Unmatched parenthesis");
      stack.pop();
    } else {
      while (stack.length > 0) {
        const top = stack.at(-1)!;
        if (top.kind !== "op" || PRECEDENCE[top.op] > PRECEDENCE[token.op] || (token.op === "!" && top.op === "!")) break;
        out.push(stack.pop() as RpnItem);
      }
      stack.push(token);
    }
  }
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.kind === "open") throw new ExpressionError("Unmatched parenthesis");
    out.push(top);
  }
  if (out.length === 0) throw new ExpressionError("Empty parse tree");
  return out;
}

function run(rpn: readonly RpnItem[], lookup: Lookup): Value {
  // Values are computed lazily so that && and || can skip their right side, as Ruby does.
  type Thunk = () => Value;
  const stack: Thunk[] = [];
  for (const item of rpn) {
    if (item.kind === "value") {
      stack.push(() => item.value(lookup));
      continue;
    }
    if (item.op === "!") {
      const operand = stack.pop();
      if (!operand) throw new ExpressionError("Invalid operand");
      stack.push(() => !present(operand()));
      continue;
    }
    const right = stack.pop();
    const left = stack.pop();
    if (!left) throw new ExpressionError("Invalid left operand");
    if (!right) throw new ExpressionError("Invalid right operand");
    stack.push(binary(item.op, left, right));
  }
  if (stack.length !== 1) throw new ExpressionError("Unreachable nodes in parse tree");
  return stack[0]!();
}

function binary(op: Operator, left: () => Value, right: () => Value): () => Value {
  switch (op) {
    case "==":
      return () => equal(left(), right());
    case "!=":
      return () => !equal(left(), right());
    case "=~":
      return () => match(left(), right()) ?? false;
    case "!~":
      return () => {
        const matched = match(left(), right());
        return matched === undefined ? true : !matched;
      };
    case "&&":
      return () => {
        const l = left();
        return truthy(l) ? right() : l;
      };
    case "||":
      return () => {
        const l = left();
        return truthy(l) ? l : right();
      };
    default:
      throw new ExpressionError("Invalid operator");
  }
}

function equal(a: Value, b: Value): boolean {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  return false;
}

/** `=~`: undefined for a nil right side; a `/…/` value is a regex; any other string is a substring test. */
function match(left: Value, right: Value): boolean | undefined {
  if (right === null) return undefined;
  const subject = typeof left === "string" ? left : "";
  if (typeof right === "object" && "regex" in right) return right.regex.test(subject);
  if (typeof right === "string") {
    const literal = /^\/((?:[^/]|\\\/)+[^\\])\/([ismU]*)$/.exec(right);
    if (literal) return compile(literal[1]!, literal[2]!).test(subject);
    return right.includes(subject);
  }
  return false;
}

/** Ruby truthiness: only nil and false are false (an empty string is true). */
function truthy(value: Value): boolean {
  return value !== null && value !== false;
}

/** Ruby's `present?`: nil, false and blank strings are not. */
function present(value: Value): boolean {
  if (value === null || value === false) return false;
  if (typeof value === "string") return value.trim() !== "";
  if (typeof value === "object" && "matched" in value) return value.matched;
  return true;
}

/** An RE2 pattern as a JavaScript RegExp with the same meaning (re2.ts); what cannot be is refused. */
function compile(body: string, flags: string): RegExp {
  try {
    return re2ToRegExp(body.replace(/\\\//g, "/"), flags);
  } catch (error) {
    throw new ExpressionError(error instanceof Re2Error ? error.message : String(error));
  }
}
