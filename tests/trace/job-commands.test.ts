import { describe, expect, test } from "bun:test";
import { commandFilter } from "../../src/trace/job-commands/command-filter.ts";
import { parseCommandLine } from "../../src/trace/job-commands/grammar.ts";

/**
 * The grammar of job commands, as Azure Pipelines documents its logging commands
 * (learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands: format and escapes) and
 * GitHub its workflow commands (docs.github.com/actions/reference/workflow-commands-for-github-actions).
 */
describe("parsing a line", () => {
  const cases: [string, string, unknown][] = [
    ["an Azure command with properties", "##vso[task.setvariable variable=sauce;isOutput=true]crushed tomatoes",
      { dialect: "azure", name: "task.setvariable", properties: { variable: "sauce", isoutput: "true" }, message: "crushed tomatoes" }],
    ["Azure's escapes: %0D %0A in the message, %3B %5D in properties, %AZP25 last", "##vso[task.setvariable variable=a%3Bb%5Dc]line1%0Aline2%AZP250A",
      { dialect: "azure", name: "task.setvariable", properties: { variable: "a;b]c" }, message: "line1\nline2%0A" }],
    ["an Azure formatting line", "##[group]Beginning of a group", { dialect: "azure", name: "group", properties: {}, message: "Beginning of a group" }],
    ["a GitHub command with properties and escapes", "::warning file=app.js,line=1,title=A%3Ab::Missing semicolon%25",
      { dialect: "github", name: "warning", properties: { file: "app.js", line: "1", title: "A:b" }, message: "Missing semicolon%" }],
    ["a GitHub command without properties", "::add-mask::hunter2", { dialect: "github", name: "add-mask", properties: {}, message: "hunter2" }],
    ["a Windows line end", "::endgroup::\r", { dialect: "github", name: "endgroup", properties: {}, message: "" }],
  ];
  for (const [name, line, expected] of cases) test(name, () => expect(parseCommandLine(line)).toEqual(expected as never));

  const nearMisses = [
    " ##vso[task.setsecret]x", "echo ##vso[task.setsecret]x", "##vso[task.unknown]x", "##vso[task.setsecret x", "##vso[setsecret]x",
    "##[groups]x", "## [group]x", "::unknown::x", ":: add-mask::x", "::add-mask:x", "#vso[task.setsecret]x",
  ];
  for (const line of nearMisses) test(`not a command: ${JSON.stringify(line)}`, () => expect(parseCommandLine(line)).toBeUndefined());
});

describe("taking commands out of a stream", () => {
  function run(chunks: string[]): { out: string; seen: [string, string][] } {
    const seen: [string, string][] = [];
    let out = "";
    const filter = commandFilter((command, before) => {
      out += new TextDecoder().decode(before);
      seen.push([command.name, command.message]);
    });
    for (const chunk of chunks) {
      const written = filter.write(new TextEncoder().encode(chunk));
      out += new TextDecoder().decode(written);
    }
    const rest = filter.end();
    out += new TextDecoder().decode(rest);
    return { out, seen };
  }

  test("a command split at every byte is found, and the output around it kept in order", () => {
    const text = "before\n::add-mask::v4lue\nafter ::not::\n";
    const { out, seen } = run([...text]);
    expect(seen).toEqual([["add-mask", "v4lue"]]);
    expect(out).toBe("before\nafter ::not::\n");
  });

  test("::stop-commands::TOKEN leaves every line alone until ::TOKEN::", () => {
    const { out, seen } = run(["::stop-commands::pause-1\n::add-mask::x\n##vso[task.setsecret]y\n::pause-1::\n::add-mask::z\n"]);
    expect(seen).toEqual([["stop-commands", "pause-1"], ["add-mask", "z"]]);
    expect(out).toBe("::add-mask::x\n##vso[task.setsecret]y\n");
  });

  test("a last line without a line end is output at the end, a command or not", () => {
    expect(run(["x\n##[group]unfinished"]).out).toBe("x\n##[group]unfinished");
  });
});
