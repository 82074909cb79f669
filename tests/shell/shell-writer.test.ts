import { describe, expect, test } from "bun:test";
import { createShellWriter } from "../../src/shell/shell-writer.ts";
import { userScript } from "../../src/shell/stage-scripts.ts";
import { writeCommands } from "../../src/shell/user-commands.ts";

function runScript(shell: string, script: string, cwd = "/tmp") {
  const result = Bun.spawnSync([shell], { stdin: new TextEncoder().encode(script), cwd, env: { PATH: process.env.PATH! } });
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
}

describe("ShellWriter", () => {
  test("writes the exact bash script, grouped so that user commands get an empty stdin", () => {
    const w = createShellWriter("bash");
    w.exportVariable("GREETING", "hello world");
    w.exportVariable("not-a-name", "skipped");
    w.cd("/tmp");
    writeCommands(w, "script_step", ["echo $GREETING"]);
    expect(w.finish()).toBe(
      [
        "{",
        "set -eo pipefail",
        "set +o noclobber",
        "export GREETING=$'hello world'",
        "cd /tmp",
        // The commands run through one eval (parsed a command at a time, as GitLab Runner's are).
        "eval $'printf \\'%s\\\\n\\' $\\'\\\\x1b[32;1m$ echo $GREETING\\\\x1b[0;m\\'\\necho $GREETING'",
        "} </dev/null 2>&1",
        "exit",
        "",
      ].join("\n"),
    );
  });

  test("writes the exact sh script", () => {
    const w = createShellWriter("sh");
    w.exportVariable("A", "it's");
    w.ifDirectory("/x y", () => w.mkdir("/a"), () => w.rmdir("/b"));
    expect(w.finish()).toBe(
      [
        "{",
        "set -e",
        "(set -o pipefail) 2>/dev/null && set -o pipefail",
        "set +o noclobber",
        "export A='it'\\''s'",
        "if [ -d '/x y' ]; then",
        "  mkdir -p /a",
        "else",
        "  rm -r -f /b",
        "fi",
        "} </dev/null 2>&1",
        "exit",
        "",
      ].join("\n"),
    );
  });

  for (const shell of ["bash", "sh"] as const) {
    test(`${shell}: echoes each command green, runs it, and stops at the first failure with its code`, () => {
      const script = userScript(shell, { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, [
        "echo one",
        "false || echo recovered",
        "(exit 42)",
        "echo never",
      ]);
      const { code, out } = runScript(shell, script);
      expect(code).toBe(42);
      expect(out).toBe(
        "\x1b[32;1m$ echo one\x1b[0;m\none\n" +
          "\x1b[32;1m$ false || echo recovered\x1b[0;m\nrecovered\n" +
          "\x1b[32;1m$ (exit 42)\x1b[0;m\n",
      );
    });

    test(`${shell}: a command reading stdin cannot swallow the rest of the script`, () => {
      const script = userScript(shell, { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, [
        "cat",
        "echo still-here",
      ]);
      const { code, out } = runScript(shell, script);
      expect(code).toBe(0);
      expect(out).toContain("still-here");
    });

    test(`${shell}: exports variables with awkward values exactly and writes file variables 0600`, () => {
      const dir = `/tmp/writer-test-${shell}-${process.pid}`;
      const value = "multi\nline 'quoted' $NOT_EXPANDED `x`";
      const script = userScript(shell, {
        projectDir: "/tmp", tmpDir: dir,
        variables: [
          { key: "AWKWARD", value, file: false, masked: false },
          { key: "KUBECONFIG", value: "apiVersion: v1\n", file: true, masked: false },
        ],
      }, ['printf "%s" "$AWKWARD" >&2', 'cat "$KUBECONFIG"', 'stat -c %a "$KUBECONFIG"']);
      const { code, out, err } = runScript(shell, script);
      expect(code).toBe(0);
      // stderr comes out with stdout, in order (GitLab Runner's one writer for both).
      expect(err).toBe("");
      expect(out.indexOf(value)).toBeGreaterThan(-1);
      expect(out.indexOf(value)).toBeLessThan(out.indexOf("apiVersion: v1\n"));
      expect(out).toContain("apiVersion: v1\n");
      expect(out.trim().endsWith("600")).toBe(true);
      Bun.spawnSync(["rm", "-rf", dir]);
    });

    // dash (Debian's sh) has no pipefail; busybox sh and bash do. The script must work in both.
    const hasPipefail = Bun.spawnSync([shell, "-c", "set -o pipefail"]).exitCode === 0;
    test(`${shell}: a failing command inside a pipeline ${hasPipefail ? "fails" : "cannot fail"} the script`, () => {
      const script = userScript(shell, { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, [
        "false | cat",
        "echo reached",
      ]);
      const { code, out, err } = runScript(shell, script);
      expect(err).toBe("");
      expect(code).toBe(hasPipefail ? 1 : 0);
      expect(out.includes("\nreached")).toBe(!hasPipefail);
    });
  }

  test("multi-line commands are shown collapsed and run whole", () => {
    const script = userScript("bash", { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, [
      "for i in 1 2; do\n  echo n$i\ndone",
    ]);
    const { out } = runScript("bash", script);
    expect(out).toBe("\x1b[32;1m$ for i in 1 2; do # collapsed multi-line command\x1b[0;m\nn1\nn2\n");
  });

  // GitLab Runner's writeCommands (shells/abstract.go): commands are trimmed, an empty one is an
  // empty line, and FF_SCRIPT_SECTIONS puts a multi-line command whole into a collapsed section.
  for (const shell of ["bash", "sh"] as const) {
    test(`${shell}: commands are trimmed and an empty one prints an empty line, as GitLab Runner writes them`, () => {
      const script = userScript(shell, { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, ["  echo a  ", "", "   ", "echo b\n"]);
      const { code, out } = runScript(shell, script);
      expect(code).toBe(0);
      expect(out).toBe("\x1b[32;1m$ echo a\x1b[0;m\na\n\n\n\x1b[32;1m$ echo b\x1b[0;m\nb\n");
    });

    test(`${shell}: FF_SCRIPT_SECTIONS shows a multi-line command whole in a collapsed section script_step_<i>`, () => {
      const script = userScript(shell, { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, ["echo one", "echo two &&\n  echo three"], {
        style: { scriptSections: true },
      });
      const { code, out } = runScript(shell, script);
      expect(code).toBe(0);
      const stamped = out.replace(/(section_(?:start|end)):\d+:/g, "$1:T:");
      expect(stamped).toBe(
        "\x1b[32;1m$ echo one\x1b[0;m\none\n" +
          "section_start:T:section_script_step_1[hide_duration=true,collapsed=true]\r\x1b[0K\x1b[32;1m$ echo two &&\n  echo three\x1b[0;m\n" +
          "section_end:T:section_script_step_1\r\x1b[0K\n" +
          "two\nthree\n",
      );
    });

    test(`${shell}: FF_ENABLE_BASH_EXIT_CODE_CHECK stops at a command whose failure set -e lets through`, () => {
      const commands = ["false && true", "echo after"];
      const env = { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] };
      const plain = runScript(shell, userScript(shell, env, commands));
      const checked = runScript(shell, userScript(shell, env, commands, { style: { checkExitCodes: true } }));
      expect(plain.code).toBe(0);
      expect(plain.out).toContain("\nafter\n");
      expect(checked.code).toBe(1);
      expect(checked.out).not.toContain("\nafter\n");
    });
  }

  // GitLab Runner runs the script through bash's eval, which parses a command at a time.
  for (const shell of ["bash", "sh"] as const) {
    test(`${shell}: a syntax error on one line fails that line after the lines before it ran`, () => {
      const { code, out } = runScript(shell, userScript(shell, { projectDir: "/tmp", tmpDir: "/tmp/x.tmp", variables: [] }, [
        "echo first", "echo second", "if then", "echo never",
      ]));
      expect(code).toBe(2);
      expect(out).toContain("\nfirst\n");
      expect(out).toContain("\nsecond\n");
      expect(out).not.toContain("never\n");
    });
  }
});

