import { describe, expect, test } from "bun:test";
import { parse } from "@babel/parser";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The house's rules (docs/architecture.md), checked on the source itself: each folder of `src/`
 * stands on a floor and imports only from floors below it; no import cycle; `main.ts` only wires
 * (under 80 lines); no source file over 300 lines and no function over 60.
 */
const ROOT = resolve(import.meta.dir, "../..");

/** Floors, bottom up; the folders of one floor do not import each other. */
export const FLOORS: readonly (readonly string[])[] = [
  ["src/version.ts", "src/zod-jitless.ts", "src/node-stream.ts", "src/file-probes.ts"],
  ["src/protocol"],
  ["src/config", "src/trace", "src/pipeline", "src/job"],
  ["src/record", "src/shell"],
  ["src/executors"],
  ["src/steps"],
  ["src/runners"],
  ["src/daemon", "src/local"],
  ["src/cli"],
  ["main.ts"],
];

const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;
const MAX_MAIN_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

const FILES = ["main.ts", ...sourceFiles("src")];
const ASTS = new Map(FILES.map((file) => [file, parse(readFileSync(join(ROOT, file), "utf8"), {
  sourceType: "module", plugins: ["typescript"], sourceFilename: file,
})]));

function floorOf(file: string): { floor: number; room: string } {
  for (const [floor, rooms] of FLOORS.entries()) {
    for (const room of rooms) if (file === room || file.startsWith(`${room}/`)) return { floor, room };
  }
  throw new Error(`${file} stands on no floor: add its folder to FLOORS (and to docs/architecture.md)`);
}

/** The tree's own files a file imports (static, `export … from`, and `import()`), type-only imports included. */
function importsOf(file: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const n = node as { type?: string; source?: { value?: unknown }; callee?: { type?: string }; arguments?: { value?: unknown }[] };
    if ((n.type === "ImportDeclaration" || n.type === "ExportNamedDeclaration" || n.type === "ExportAllDeclaration") && typeof n.source?.value === "string") {
      found.push(n.source.value);
    }
    if (n.type === "ImportExpression" && typeof (n as { source?: { value?: unknown } }).source?.value === "string") found.push(String(n.source!.value));
    if (n.type === "CallExpression" && n.callee?.type === "Import" && typeof n.arguments?.[0]?.value === "string") found.push(String(n.arguments[0]!.value));
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object" && "type" in value) visit(value);
    }
  };
  visit(ASTS.get(file)!.program);
  return found.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s))).filter((p) => p.endsWith(".ts"));
}

/** Every function (declarations, expressions, arrows, methods) of a file with its length in lines. */
function functionsOf(file: string): { name: string; line: number; lines: number }[] {
  const found: { name: string; line: number; lines: number }[] = [];
  const visit = (node: unknown, name: string): void => {
    if (!node || typeof node !== "object") return;
    const n = node as { type?: string; id?: { name?: string }; key?: { name?: string; value?: string }; loc?: { start: { line: number }; end: { line: number } } };
    let own = name;
    if (n.type === "VariableDeclarator" && n.id?.name) own = n.id.name;
    if ((n.type === "ObjectProperty" || n.type === "ClassProperty") && (n.key?.name ?? n.key?.value)) own = String(n.key!.name ?? n.key!.value);
    const isFunction = ["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression", "ObjectMethod", "ClassMethod", "ClassPrivateMethod"].includes(n.type ?? "");
    if (isFunction && n.loc) {
      own = n.id?.name ?? n.key?.name ?? (n.key?.value !== undefined ? String(n.key.value) : own);
      found.push({ name: own || "(anonymous)", line: n.loc.start.line, lines: n.loc.end.line - n.loc.start.line + 1 });
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === "loc" || key === "start" || key === "end") continue;
      if (Array.isArray(value)) value.forEach((v) => visit(v, own));
      else if (value && typeof value === "object" && "type" in value) visit(value, own);
    }
  };
  visit(ASTS.get(file)!.program, "");
  return found;
}

describe("the house (docs/architecture.md)", () => {
  test("every import runs down a floor, or stays in its own folder", () => {
    const upward: string[] = [];
    for (const file of FILES) {
      const from = floorOf(file);
      for (const target of importsOf(file)) {
        const to = floorOf(target);
        if (to.room === from.room) continue;
        if (to.floor >= from.floor) upward.push(`${file} -> ${target} (floor ${from.floor} -> ${to.floor})`);
      }
    }
    expect(upward).toEqual([]);
  });

  test("no import cycle", () => {
    const graph = new Map(FILES.map((file) => [file, importsOf(file).filter((t) => ASTS.has(t))]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const walk = (file: string): void => {
      state.set(file, "open");
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
        else if (!state.has(next)) walk(next);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of FILES) if (!state.has(file)) walk(file);
    expect(cycles).toEqual([]);
  });

  test(`main.ts only wires: under ${MAX_MAIN_LINES} lines`, () => {
    expect(readFileSync(join(ROOT, "main.ts"), "utf8").split("\n").length).toBeLessThan(MAX_MAIN_LINES);
  });

  test(`no source file over ${MAX_FILE_LINES} lines`, () => {
    const long = FILES.map((file) => ({ file, lines: readFileSync(join(ROOT, file), "utf8").trimEnd().split("\n").length }))
      .filter((f) => f.lines > MAX_FILE_LINES).map((f) => `${f.file}: ${f.lines}`);
    expect(long).toEqual([]);
  });

  test(`no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = FILES.flatMap((file) => functionsOf(file).filter((f) => f.lines > MAX_FUNCTION_LINES).map((f) => `${file}:${f.line} ${f.name}: ${f.lines}`));
    expect(long).toEqual([]);
  });

  test("the checks see what they check: a known import, a known function", () => {
    expect(importsOf("src/steps/run-job.ts")).toContain("src/steps/job.ts");
    expect(functionsOf("src/steps/run-job.ts").map((f) => f.name)).toContain("runJob");
  });
});
