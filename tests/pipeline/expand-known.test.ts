import { expect, test } from "bun:test";
import { expandKnown } from "../../src/pipeline/expand-known.ts";

test("expandKnown: $VAR and ${VAR} of known variables; unknown ones, $$ and object keys stay as written", () => {
  const vars: Record<string, string> = { A: "1", LONG_NAME: "x" };
  const lookup = (name: string) => vars[name];
  expect(expandKnown("$A-${A}-$LONG_NAME-${LONG_NAME}s", lookup)).toBe("1-1-x-xs");
  expect(expandKnown("$B ${B} $$A $$ $", lookup)).toBe("$B ${B} $$A $$ $");
  expect(expandKnown("${A", lookup)).toBe("${A");
  expect(expandKnown("$constructor $toString", (name) => (vars as Record<string, unknown>)[name] as string | undefined)).toBe("$constructor $toString");
});
