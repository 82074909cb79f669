import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import type { TestS3 } from "./s3-server.ts";

export const BINARY = resolve(import.meta.dir, "../../dist/runner");

/** The `[runners.cache]` of a fleet on the test's S3 server, as config.toml writes it. */
export function cacheToml(s3: TestS3, shared = false): string {
  return [
    "  [runners.cache]", '    Type = "s3"', `    Shared = ${shared}`,
    "    [runners.cache.s3]", `      ServerAddress = "${s3.endpoint}"`, `      AccessKey = "${s3.accessKey}"`,
    `      SecretKey = "${s3.secretKey}"`, `      BucketName = "${s3.bucket}"`, "      Insecure = true",
  ].join("\n");
}

/**
 * One runner manager of a fleet: its own directory, builds and local cache, the same runner token
 * (GitLab's runner managers share one runner), `runner run` with `concurrent` jobs.
 */
export function startRunner(fake: FakeGitLab, s3: TestS3, dir: string, concurrent: number) {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "config.toml");
  writeFileSync(config, [
    `concurrent = ${concurrent}`, "check_interval = 1", "shutdown_timeout = 10", "",
    "[[runners]]", `  name = "${dir}"`, `  url = "${fake.url}"`, `  token = "${fake.runnerToken}"`, '  executor = "shell"',
    `  builds_dir = "${join(dir, "builds")}"`, `  cache_dir = "${join(dir, "cache")}"`, `  request_concurrency = ${concurrent}`,
    "  [runners.feature_flags]", "    FF_TIMESTAMPS = false", cacheToml(s3), "",
  ].join("\n"));
  const child = Bun.spawn([BINARY, "run", "--config", config], {
    cwd: dir, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" }, stdout: "pipe", stderr: "pipe",
  });
  const log = new Response(child.stderr).text();
  return {
    child,
    async stop(): Promise<string> {
      child.kill("SIGQUIT");
      await child.exited;
      return log;
    },
  };
}

/** The jobs of a fleet run: each restores and saves one cache, and says whose copy it found. */
export function enqueueCachedJobs(fake: FakeGitLab, count: number, sleepSeconds = 0): number[] {
  const cache = [{ key: "fleet-non_protected", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
  return Array.from({ length: count }, () => fake.enqueue([
    'echo "restored from: $(cat vendor/who 2>/dev/null || echo nothing) in $CI_BUILDS_DIR"',
    ...(sleepSeconds > 0 ? [`sleep ${sleepSeconds}`] : []),
    'mkdir -p vendor && echo "$CI_BUILDS_DIR" > vendor/who',
  ], { cache }));
}
