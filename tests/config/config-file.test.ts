import { describe, expect, test } from "bun:test";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigFileError, loadConfig, parseConfig, saveConfig } from "../../src/config/config-file.ts";
import { EXECUTOR_NAMES } from "../../src/runners/executor-registry.ts";
import { RUNNER_DEFAULTS } from "../../src/config/runner-defaults.ts";

const fixture = join(import.meta.dir, "../fixtures/gitlab-runner-19-config.toml");

describe("config.toml", () => {
  test("a file as GitLab Runner 19 writes it loads, with nothing unknown", async () => {
    const { config, warnings } = await loadConfig(fixture);
    expect(warnings).toEqual([]);
    expect(config.concurrent).toBe(4);
    expect(config.runners.map((r) => r.executor)).toEqual(["docker", "shell"]);
    const shell = config.runners[1]!;
    expect(shell).toMatchObject({
      name: "shell-runner", limit: 2, request_concurrency: 2, output_limit: 8192, builds_dir: "/srv/builds",
      environment: ["LANG=C.UTF-8", "GIT_DEPTH=10"], feature_flags: { FF_TIMESTAMPS: false },
    });
    expect(config.runners[0]!.docker?.image).toBe("alpine:3.20");
  });

  test("defaults are GitLab Runner's", () => {
    const { config } = parseConfig('[[runners]]\nurl = "http://x"\ntoken = "t"\n', "c.toml");
    expect(config).toMatchObject({ concurrent: 1, check_interval: 3, shutdown_timeout: 30 });
    expect(config.runners[0]).toMatchObject({ limit: 0, request_concurrency: 1, output_limit: 4096, executor: "shell" });
    // `runner exec` builds its entries with these, not through the schema: the two must agree.
    expect(config.runners[0] as unknown).toEqual({ ...RUNNER_DEFAULTS, url: "http://x", token: "t" });
  });

  test("unknown keys warn with their path", () => {
    const { warnings } = parseConfig('concurent = 2\n[[runners]]\nurl = "http://x"\ntoken = "t"\nlimt = 1\n[runners.docker]\ncolour = "red"\n', "c.toml");
    expect(warnings).toEqual(["c.toml: unknown key concurent", "c.toml: unknown key runners[0].limt", "c.toml: unknown key runners[0].docker.colour"]);
  });

  test("a wrong type fails with the key's path", () => {
    expect(() => parseConfig('[[runners]]\nurl = "http://x"\ntoken = "t"\nlimit = "two"\n', "c.toml")).toThrow(
      /^c\.toml: runners\[0\]\.limit: /,
    );
  });

  test("invalid TOML names file, line and column", () => {
    expect(() => parseConfig("concurrent = \n", "c.toml")).toThrow(ConfigFileError);
    expect(() => parseConfig("concurrent = \n", "c.toml")).toThrow(/^c\.toml:1:\d+: /);
  });

  test("url and token may use $VAR", () => {
    const { config } = parseConfig('[[runners]]\nurl = "$GL_URL"\ntoken = "${GL_TOKEN}"\n', "c.toml", { GL_URL: "http://h", GL_TOKEN: "glrt-x" });
    expect(config.runners[0]).toMatchObject({ url: "http://h", token: "glrt-x" });
  });

  test.each([
    ["memory that is no size", '[runners.docker]\nmemory = "lots"', 'runners[0].docker.memory: "lots" is not a size like 512m or 2g'],
    ["a shell this runner has not", 'shell = "fish"', 'runners[0].shell: "fish" is not a shell this runner writes scripts for (bash, sh)'],
    ["an environment entry without =", 'environment = ["NOEQUALS"]', 'runners[0].environment[0]: "NOEQUALS" is not KEY=VALUE'],
    ["an ssh port that is no number", '[runners.ssh]\nhost = "h"\nport = "abc"', 'runners[0].ssh.port: "abc" is not a port number (1-65535)'],
    ["an executor this runner has not", 'executor = "kubernetes"', `runners[0].executor: "kubernetes" is not available in this runner (${EXECUTOR_NAMES.join(", ")} are)`],
    ["an unset $VAR in the token", 'token = "$UNSET_RUNNER_TOKEN"', "runners[0].token: $UNSET_RUNNER_TOKEN is not set in the runner's environment"],
    ["a url that is none", 'url = "gitlab.example.com"', 'runners[0].url: "gitlab.example.com" is not an http(s) URL of a GitLab instance'],
  ])("%s refuses to load, naming the key", (_name, line, message) => {
    const text = `[[runners]]\nurl = "http://x"\ntoken = "t"\n${line}\n`.replace(/^url = "http:\/\/x"\n(?=[\s\S]*^url = )/m, "").replace(/^token = "t"\n(?=[\s\S]*^token = )/m, "");
    expect(() => parseConfig(text, "c.toml", {}, EXECUTOR_NAMES)).toThrow(ConfigFileError);
    expect(() => parseConfig(text, "c.toml", {}, EXECUTOR_NAMES)).toThrow(`c.toml: ${message}`);
  });

  test("an invalid listen_address refuses to load; every problem is named at once", () => {
    const text = 'listen_address = "nowhere"\n[[runners]]\nurl = "http://x"\ntoken = "t"\nshell = "fish"\nlimit = "x"\n';
    expect(() => parseConfig(text, "c.toml")).toThrow(/^c\.toml: runners\[0\]\.limit: /);
    const fixed = text.replace('limit = "x"\n', "");
    let message = "";
    try {
      parseConfig(fixed, "c.toml");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split("\n")).toEqual([
      'c.toml: listen_address: "nowhere" is not host:port (e.g. "localhost:9252")',
      'c.toml: runners[0].shell: "fish" is not a shell this runner writes scripts for (bash, sh)',
    ]);
  });

  test("GitLab Runner's leniency stays: check_interval = 0 and limit = 0 load, with a note of what applies", () => {
    const { notes } = parseConfig('check_interval = 0\n[[runners]]\nurl = "http://x"\ntoken = "t"\nlimit = 0\n', "c.toml");
    expect(notes).toEqual(["c.toml: check_interval = 0: the default applies, 3s", "c.toml: runners[0].limit = 0: no limit on this runner's jobs"]);
  });

  test("a directory given as the config file says so", async () => {
    await expect(loadConfig(tmpdir())).rejects.toThrow(`${tmpdir()}: is a directory, not a config.toml`);
  });

  test("saving writes mode 0600 and reloads the same", async () => {
    const { config } = await loadConfig(fixture);
    const file = join(mkdtempSync(join(tmpdir(), "runner-cfg-")), "config.toml");
    await saveConfig(file, config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadConfig(file)).config.runners[1]!.token).toBe("glrt-t2_9ZyXwVuTsRqPoNmLkJiH");
  });
});
