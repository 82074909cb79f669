import { afterEach, describe, expect, test } from "bun:test";
import { apiBaseUrl, HttpClient, retryDelay } from "../../src/protocol/http-client.ts";
import { requestJob } from "../../src/protocol/jobs-api.ts";
import { runnerInfo } from "../../src/protocol/runner-info.ts";
import { mapFailureReason } from "../../src/protocol/failure-reason.ts";
import { shortToken } from "../../src/protocol/token.ts";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => server?.stop(true));

function serve(answers: (() => Response)[]) {
  const seen: { body: any; headers: Headers }[] = [];
  let i = 0;
  server = Bun.serve({
    hostname: "127.0.0.1", port: 0,
    fetch: async (req) => {
      seen.push({ body: await req.json().catch(() => undefined), headers: req.headers });
      return answers[Math.min(i++, answers.length - 1)]!();
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, seen };
}

describe("HttpClient (docs/protocol.md §1)", () => {
  test("the base URL drops a trailing / and /ci and adds /api/v4/", () => {
    expect(apiBaseUrl("https://gitlab.example.com/")).toBe("https://gitlab.example.com/api/v4/");
    expect(apiBaseUrl("https://gitlab.example.com/ci")).toBe("https://gitlab.example.com/api/v4/");
    expect(apiBaseUrl("http://h:8080/sub/")).toBe("http://h:8080/sub/api/v4/");
    expect(() => apiBaseUrl("ftp://h")).toThrow(/only http and https/);
  });

  test("408, 429 and 5xx are retried up to 5 attempts; 4xx are not", async () => {
    const waits: number[] = [];
    const { url, seen } = serve([() => new Response("", { status: 502 })]);
    const client = new HttpClient(url, { sleep: async (ms) => void waits.push(ms) });
    const response = await client.send({ method: "GET", path: "x" });
    expect(response.status).toBe(502);
    expect(seen.length).toBe(5);
    expect(waits.length).toBe(4);
    const { url: url2, seen: seen2 } = serve([() => new Response("", { status: 404 })]);
    await new HttpClient(url2, { sleep: async () => {} }).send({ method: "GET", path: "x" });
    expect(seen2.length).toBe(1);
  });

  test("a Retry-After of a day is capped at five minutes (network/retry_requester.go would wait it out)", () => {
    expect(retryDelay(new Headers({ "Retry-After": "86400" }), 1)).toBe(5 * 60_000);
    const now = Date.parse("Sun, 22 Nov 2026 19:00:00 GMT");
    expect(retryDelay(new Headers({ "RateLimit-ResetTime": "Mon, 23 Nov 2026 19:00:00 GMT" }), 1, now)).toBe(5 * 60_000);
    // A reset time in the past, or a Retry-After of 0, falls back to the backoff, as in GitLab Runner.
    expect(retryDelay(new Headers({ "RateLimit-ResetTime": "Sat, 21 Nov 2026 19:00:00 GMT", "Retry-After": "0" }), 1, now)).toBeLessThanOrEqual(100);
  });

  test("a coordinator that accepts the connection and never answers is a network error after the timeout", async () => {
    const { createServer } = await import("node:net");
    const silent = createServer(() => {}).listen(0, "127.0.0.1");
    await new Promise((r) => silent.once("listening", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const client = new HttpClient(`http://127.0.0.1:${port}`);
      const started = performance.now();
      await expect(client.send({ method: "GET", path: "x", timeoutMs: 300 })).rejects.toThrow(/no answer within/);
      expect(performance.now() - started).toBeLessThan(2000);
      const result = await requestJob(new HttpClient(`http://127.0.0.1:${port}`), { token: "t", info: runnerInfo({ executor: "shell" }), timeoutMs: 300 });
      expect(result.kind).toBe("client-error");
    } finally {
      silent.close();
    }
  });

  test("Retry-After and RateLimit-ResetTime say how long to wait", () => {
    expect(retryDelay(new Headers({ "Retry-After": "60" }), 1)).toBe(60_000);
    const now = Date.parse("Sun, 22 Nov 2026 19:00:00 GMT");
    expect(retryDelay(new Headers({ "RateLimit-ResetTime": "Sun, 22 Nov 2026 19:00:07 GMT" }), 1, now)).toBe(7000);
    const backoff = retryDelay(new Headers(), 3);
    expect(backoff).toBeGreaterThanOrEqual(200);
    expect(backoff).toBeLessThanOrEqual(400);
  });

  test("every request carries the User-Agent and a 32-hex X-Request-Id", async () => {
    const { url, seen } = serve([() => new Response(null, { status: 204 })]);
    await new HttpClient(url).send({ method: "GET", path: "x" });
    expect(seen[0]!.headers.get("User-Agent")).toMatch(/^gitlab-runner \S+ \(/);
    expect(seen[0]!.headers.get("X-Request-Id")).toMatch(/^[0-9a-f]{32}$/);
  });

  test("jobs/request sends last_update from the previous answer's X-GitLab-Last-Update", async () => {
    const { url, seen } = serve([
      () => new Response(null, { status: 204, headers: { "X-GitLab-Last-Update": "abc123" } }),
      () => new Response(null, { status: 204 }),
    ]);
    const client = new HttpClient(url);
    const info = runnerInfo({ executor: "shell" });
    expect(await requestJob(client, { token: "glrt-x", info })).toEqual({ kind: "no-job" });
    await requestJob(client, { token: "glrt-x", info, systemId: "s_0123456789ab" });
    expect(seen[0]!.body.last_update).toBeUndefined();
    expect(seen[1]!.body).toMatchObject({ token: "glrt-x", last_update: "abc123", system_id: "s_0123456789ab" });
    expect(seen[1]!.headers.get("RUNNER-TOKEN")).toBe("glrt-x");
  });

  test("a 201 that is not JSON is a failed request, a refused connection a client error", async () => {
    const { url } = serve([() => new Response("not json", { status: 201 })]);
    expect((await requestJob(new HttpClient(url), { token: "t", info: runnerInfo() })).kind).toBe("failed");
    expect((await requestJob(new HttpClient("http://127.0.0.1:1"), { token: "t", info: runnerInfo() })).kind).toBe("client-error");
  });
});

describe("failure reasons and tokens", () => {
  test.each([
    ["script_failure", [], "script_failure"],
    ["image_pull_failure", ["image_pull_failure"], "image_pull_failure"],
    ["image_pull_failure", [], "runner_system_failure"],
    ["configuration_error", [], "script_failure"],
    ["job_canceled", ["script_failure"], "unknown_failure"],
    [undefined, [], "script_failure"],
  ] as const)("%s with %j is sent as %s", (reason, accepted, sent) => {
    expect(mapFailureReason(reason, accepted)).toBe(sent);
  });

  test("short tokens drop GitLab's prefixes", () => {
    expect(shortToken("glrt-t1_Qm9vZ2xlTWFwc0FyZUZ1bg")).toBe("Qm9vZ2xlT");
    expect(shortToken("glrt-abcdefghijkl")).toBe("abcdefghi");
    expect(shortToken("GR1348941abcdefghijkl")).toBe("abcdefghi");
  });
});
