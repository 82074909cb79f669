import { afterAll, describe, expect, test } from "bun:test";
import { DockerApi } from "../../../src/executors/docker/docker-api.ts";
import { ensureImage } from "../../../src/executors/docker/images.ts";
import { registryAuth, registryOf } from "../../../src/executors/docker/registry-auth.ts";
import { JobFailure } from "../../../src/protocol/job-failure.ts";

const IMAGE = "registry.example.com:5000/team/app:1";
const authConfig = JSON.stringify({ auths: { "registry.example.com:5000": { auth: Buffer.from("robot:s3cr3t:with:colons").toString("base64") } } });

describe("registry credentials", () => {
  test("the registry of an image name, Docker Hub when the first part is no host", () => {
    expect(registryOf(IMAGE)).toBe("registry.example.com:5000");
    expect(registryOf("localhost/app")).toBe("localhost");
    expect(registryOf("library/debian:12")).toBe("docker.io");
    expect(registryOf("debian")).toBe("docker.io");
  });

  test("DOCKER_AUTH_CONFIG first, then the job's registry credentials for the same host, else none", () => {
    const credentials = [{ type: "registry", url: "registry.example.com:5000", username: "gitlab-ci-token", password: "job-token" }];
    expect(registryAuth(IMAGE, { credentials, dockerAuthConfig: authConfig })).toEqual({
      username: "robot", password: "s3cr3t:with:colons", serveraddress: "registry.example.com:5000", source: "$DOCKER_AUTH_CONFIG",
    });
    expect(registryAuth(IMAGE, { credentials })).toMatchObject({ username: "gitlab-ci-token", source: "job payload (GitLab Registry)" });
    expect(registryAuth("other.example.com/app", { credentials, dockerAuthConfig: authConfig })).toBeUndefined();
  });
});

/** An engine on 127.0.0.1 that knows no image until one is pulled, and records the pulls. */
const pulls: { query: URLSearchParams; auth: string | null }[] = [];
let pulled = false;
const engine = Bun.serve({
  hostname: "127.0.0.1", port: 0,
  fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname.startsWith("/images/")) return new Response(pulled ? "{}" : '{"message":"No such image"}', { status: pulled ? 200 : 404 });
    if (request.method === "POST" && url.pathname === "/images/create") {
      pulls.push({ query: url.searchParams, auth: request.headers.get("x-registry-auth") });
      const refused = url.searchParams.get("tag") === "denied";
      pulled = !refused;
      return new Response(refused ? '{"error":"unauthorized: authentication required"}\n' : '{"status":"Pulling"}\n{"status":"Downloaded"}\n');
    }
    return new Response("{}", { status: 404 });
  },
});
afterAll(() => engine.stop(true));

describe("pulling through the Engine API", () => {
  test("the pull carries X-Registry-Auth; the trace names the source, never the secret", async () => {
    const api = new DockerApi({ host: `tcp://127.0.0.1:${engine.port}` });
    const lines: string[] = [];
    await ensureImage(api, IMAGE, ["if-not-present"], (l) => lines.push(l), registryAuth(IMAGE, { dockerAuthConfig: authConfig }));
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.query.get("fromImage")).toBe("registry.example.com:5000/team/app");
    expect(pulls[0]!.query.get("tag")).toBe("1");
    const header = JSON.parse(Buffer.from(pulls[0]!.auth!.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString());
    expect(header).toEqual({ username: "robot", password: "s3cr3t:with:colons", serveraddress: "registry.example.com:5000" });
    expect(lines).toEqual(["Authenticating with credentials from $DOCKER_AUTH_CONFIG", `Pulling docker image ${IMAGE} ...`]);
    expect(lines.join("\n")).not.toContain("s3cr3t");
  });

  test("a refused pull fails the job with image_pull_failure and the registry's words", async () => {
    pulled = false;
    const api = new DockerApi({ host: `tcp://127.0.0.1:${engine.port}` });
    const error = await ensureImage(api, "registry.example.com/app:denied", ["always"], () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailure);
    expect(error).toMatchObject({ failureReason: "image_pull_failure" });
    expect((error as Error).message).toContain('failed to pull image "registry.example.com/app:denied" with specified policies [always]: unauthorized: authentication required');
  });
});
