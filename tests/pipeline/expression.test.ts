import { describe, expect, test } from "bun:test";
import { ExpressionError, parseExpression } from "../../src/pipeline/expression.ts";

const vars = {
  BRANCH: "main", EMPTY: "", SPACE: "   ", TAG: "v1.2.3", NUM: "1234", PATTERN: "/^feat-/", SUB: "23",
  FEATURE: "feat-login", ONE: "1", X: "x",
};

describe("rules:if expressions (docs/pipeline.md §6.3)", () => {
  test.each([
    ['$BRANCH == "main"', true],
    ["$BRANCH == 'main'", true],
    ['$BRANCH != "main"', false],
    ['"main" == $BRANCH', true],
    ["$UNDEFINED == null", true],
    ["$EMPTY == null", false],
    ['$EMPTY == ""', true],
    ['$UNDEFINED == ""', false],
    ["$ONE == true", false],
    ["$BRANCH", true],
    ["$EMPTY", false],
    ["$SPACE", false],
    ["$UNDEFINED", false],
    ["$TAG =~ /^v\\d+\\.\\d+/", true],
    ["$TAG =~ /^V/i", true],
    ["$TAG !~ /^v/", false],
    ["$UNDEFINED =~ /xy/", false],
    ["$BRANCH =~ $UNDEFINED", false],
    ["$BRANCH !~ $UNDEFINED", true],
    ["$FEATURE =~ $PATTERN", true],
    ["$SUB =~ $NUM", true],
    ['$X =~ "xyz"', true],
    ['$BRANCH == "main" && $TAG', true],
    ['$BRANCH == "dev" || $TAG =~ /^v/', true],
    ['$UNDEFINED || $BRANCH == "main" && $EMPTY', false],
    ["$EMPTY && $X", true],
    ["$EMPTY || $X", false],
    ['($BRANCH == "dev" || $BRANCH == "main") && $TAG', true],
    ["!$UNDEFINED", true],
    ["!$BRANCH", false],
    ['!$BRANCH == "main"', false],
    ['!($BRANCH == "dev")', true],
    ["!!$BRANCH", true],
    ["null", false],
    ["true", true],
    ["false || $BRANCH", true],
  ])("%s is %p", (text, expected) => {
    expect(parseExpression(text).evaluate(vars)).toBe(expected);
  });

  test.each([
    ["$A ==", "Invalid left operand"],
    ["$a/b", "Unknown lexeme found!"],
    ['$A "x"', "Unreachable nodes in parse tree"],
    ["($A", "Unmatched parenthesis"],
    ["$A)", "Unmatched parenthesis"],
    ["${A} == 1", "Unknown lexeme found!"],
    ["$A =~ /a/", "Unknown lexeme found!"],
    ["", "Empty parse tree"],
    [Array(60).fill("$A").join(" && "), "Too many tokens!"],
  ])("%j is refused: %s", (text, message) => {
    expect(() => parseExpression(text)).toThrow(new ExpressionError(message));
  });
});
