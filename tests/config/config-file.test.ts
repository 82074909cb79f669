import { describe, expect, test } from "bun:test";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigFileError, loadConfig, parseConfig, saveConfig } from "../../src/config/config-file.ts";

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

  test("saving writes mode 0600 and reloads the same", async () => {
    const { config } = await loadConfig(fixture);
    const file = join(mkdtempSync(join(tmpdir(), "runner-cfg-")), "config.toml");
    await saveConfig(file, config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadConfig(file)).config.runners[1]!.token).toBe("glrt-t2_9ZyXwVuTsRqPoNmLkJiH");
  });
});
