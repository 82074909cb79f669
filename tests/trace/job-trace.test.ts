import { describe, expect, test } from "bun:test";
import { JobTrace, type TraceStream } from "../../src/trace/job-trace.ts";
import { TerminalSink } from "../../src/trace/terminal-sink.ts";

function capture(sections = true) {
  const writes: { text: string; stream: TraceStream }[] = [];
  const trace = new JobTrace({
    sink: { write: (bytes, stream) => writes.push({ text: new TextDecoder().decode(bytes), stream }) },
    masking: { phrases: ["hidden-value"] },
    sections,
    now: () => 1_700_000_000_123,
  });
  const text = () => writes.map((w) => w.text).join("");
  return { trace, writes, text };
}

describe("JobTrace bytes (docs/protocol.md §9)", () => {
  test("a stage header is a section marker followed by a bold-cyan Println", () => {
    const { trace, text } = capture();
    trace.sectionStart("get_sources", "Getting source from Git repository");
    trace.sectionEnd("get_sources");
    expect(text()).toBe(
      "section_start:1700000000:get_sources\r\x1b[0K" +
        "\x1b[0K\x1b[36;1mGetting source from Git repository\x1b[0;m\x1b[0;m\n" +
        "section_end:1700000000:get_sources\r\x1b[0K",
    );
  });

  test("without trace_sections only the header is written", () => {
    const { trace, text } = capture(false);
    trace.sectionStart("get_sources", "Getting source");
    trace.sectionEnd("get_sources");
    expect(text()).toBe("\x1b[0K\x1b[36;1mGetting source\x1b[0;m\x1b[0;m\n");
  });

  test("result and warning lines have GitLab's colours and prefixes", () => {
    const { trace, text } = capture();
    trace.info("Job succeeded");
    trace.error("Job failed: exit code 1");
    trace.warning("after_script failed");
    expect(text()).toBe(
      "\x1b[32;1mJob succeeded\x1b[0;m\n" +
        "\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m\n" +
        "\x1b[0;33mWARNING: after_script failed\x1b[0;m\n",
    );
  });

  test("runner lines go to stream 00; the script's stdout and stderr are one writer on 01, masked across both", () => {
    const { trace, writes } = capture();
    trace.println("runner says hidden-value");
    trace.stdout.write(new TextEncoder().encode("out hidden-value\n"));
    trace.stderr.write(new TextEncoder().encode("err hidden-"));
    trace.stdout.write(new TextEncoder().encode("value\n"));
    trace.end();
    expect(writes.map((w) => `${w.stream.id}${w.stream.type}:${w.text}`)).toEqual([
      "0O:\x1b[0Krunner says [MASKED]\x1b[0;m\n",
      "1O:out [MASKED]\n",
      "1O:err ",
      "1O:[MASKED]\n",
    ]);
  });

  test("a stage's last line without a newline ends with its section (GitLab Runner opens a fresh masker and timestamper per stage)", () => {
    const { trace, writes } = capture();
    trace.sectionStart("step_script", "Executing");
    trace.stdout.write(new TextEncoder().encode("no newline hidden-"));
    trace.sectionEnd("step_script");
    trace.sectionStart("after_script", "After");
    trace.stdout.write(new TextEncoder().encode("value\n"));
    trace.end();
    const text = writes.map((w) => w.text).join("");
    expect(text.indexOf("no newline hidden-")).toBeLessThan(text.indexOf("section_end:"));
    expect(text).not.toContain("[MASKED]");
  });
});

describe("TerminalSink", () => {
  test("removes section markers, keeps lines whole, and prefixes them", () => {
    const printed: string[] = [];
    const sink = new TerminalSink({ print: (t) => printed.push(t), prefix: "job | ", color: false });
    const trace = new JobTrace({ sink, masking: { phrases: [] }, sections: true });
    trace.sectionStart("step_script", "Executing");
    trace.stdout.write(new TextEncoder().encode("par"));
    trace.stdout.write(new TextEncoder().encode("tial\nnext"));
    trace.sectionEnd("step_script");
    trace.info("Job succeeded");
    trace.end();
    sink.flush();
    expect(printed.join("")).toBe("job | Executing\njob | partial\njob | next\njob | Job succeeded\n");
  });

  // The plain-output fast road against the line-by-line rendering it skips (the rule as it was).
  test("prints what the line-by-line rendering prints, for any mix of markers, escapes and prefixes", () => {
    const SECTION = /section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]\r\n]*\])?\r\x1b\[0K/g;
    const ESCAPE = /\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
    const reference = (text: string, prefix: string, color: boolean) => {
      let out = "";
      for (const raw of text.split(/(?<=\n)/)) {
        const unmarked = raw.replace(SECTION, "");
        if (unmarked !== raw && unmarked.trim() === "") continue;
        out += prefix + (color ? unmarked : unmarked.replace(ESCAPE, ""));
      }
      return out;
    };
    const pieces = ["plain", "\n", "\n", "section_start:1700000000:build\r\x1b[0K", "section_end:1700000000:build\r\x1b[0K", "\x1b[32;1m", "\x1b[0;m", "section_ not a marker", "\r", "  ", "é"];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let differences = 0;
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join("") + "\n";
      for (const [prefix, color] of [["", true], ["", false], ["job | ", true], ["job | ", false]] as const) {
        const printed: string[] = [];
        const sink = new TerminalSink({ print: (t) => printed.push(t), prefix, color });
        sink.write(new TextEncoder().encode(text), { id: 1, type: "O" });
        sink.flush();
        if (printed.join("") !== reference(text, prefix, color)) differences++;
      }
    }
    expect(differences).toBe(0);
  });
});
