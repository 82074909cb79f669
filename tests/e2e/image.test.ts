import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { DockerApi } from "../../src/executors/docker/docker-api.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import { BUSYBOX, DEBIAN, dockerAvailable, startDocker } from "../helpers/docker.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BINARY = join(ROOT, "dist/runner");
const HELPER = `runner-helper:${pkg.version}`;
const IMAGE = `runner:${pkg.version}`;
const available = dockerAvailable();
const api = new DockerApi();
const made: string[] = [];
const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" };

beforeAll(async () => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: ROOT });
  if (available) await startDocker();
}, 300_000);
afterAll(async () => {
  for (const id of made) await api.request("DELETE", `/containers/${id}`, { query: { force: true } }).catch(() => {});
});

/** Runs `cmd` in a fresh container of `image` to its end; returns its exit code and output. */
async function runContainer(image: string, cmd: string[], hostConfig: Record<string, unknown> = {}, setup?: (id: string) => Promise<void>) {
  const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", {
    body: { Image: image, Entrypoint: [""], Cmd: cmd, HostConfig: hostConfig },
  });
  made.push(Id);
  await setup?.(Id);
  await api.request("POST", `/containers/${Id}/start`);
  const { StatusCode } = await api.request<{ StatusCode: number }>("POST", `/containers/${Id}/wait`);
  const logs = String(await api.request("GET", `/containers/${Id}/logs`, { query: { stdout: true, stderr: true } }));
  return { code: StatusCode, logs: logs.replace(/[\x00-\x02]\x00\x00\x00[\s\S]{4}/g, "") };
}

(available ? describe : describe.skip)("the image", () => {
  test("builds offline from a local base through the Engine API, as helper and runner image", () => {
    const built = Bun.spawnSync([process.execPath, "scripts/image.ts", DEBIAN], { cwd: ROOT, env });
    expect(built.exitCode, built.stderr.toString()).toBe(0);
    expect(built.stdout.toString()).toContain(`built ${HELPER}, ${IMAGE} from ${DEBIAN}`);
  }, 120_000);

  test("is the Docker executor's default helper: the runner's stages run in it when a stage needs it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runner-helper-"));
    // A job image that runs as another user: the runner's stages (which remove what root made) go
    // to the helper, as in GitLab Runner. A root image with its sources copied in needs no helper.
    writeFileSync(join(dir, ".gitlab-ci.yml"), [
      "as-user:", `  image: { name: ${BUSYBOX}, docker: { user: "1234" } }`, '  script: [readlink /bin/sh, echo "build=$(hostname)"]',
      "as-root:", `  image: ${BUSYBOX}`, '  script: [echo "build=$(hostname)"]', "",
    ].join("\n"));
    const hosts = (job: string) => {
      const run = Bun.spawnSync([BINARY, "exec", "--executor", "docker", "--no-color", job], { cwd: dir, env });
      const out = run.stdout.toString();
      expect(run.exitCode, out + run.stderr).toBe(0);
      expect(out).not.toContain("is not there");
      return { out, runner: /Running on (\S+)\.\.\./.exec(out)?.[1], build: /\nbuild=(\S+)\n/.exec(out)?.[1] };
    };
    // prepare_script runs in the helper: its host name is not the build container's.
    const user = hosts("as-user");
    expect(user.runner).toMatch(/^[0-9a-f]{12}$/);
    expect(user.build).toMatch(/^[0-9a-f]{12}$/);
    expect(user.runner).not.toBe(user.build);
    expect(user.out).toContain("busybox\n");
    const root = hosts("as-root");
    expect(root.runner).toMatch(/^[0-9a-f]{12}$/);
    expect(root.runner).toBe(root.build);
  }, 60_000);

  test("runs the runner as a container with only the host's socket, taking a coordinator's job with artifacts and a cache", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const cache = [{ key: "deps", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
      const artifacts = [{ name: "out", paths: ["out/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }] as never;
      const first = fake.enqueue(["readlink /bin/sh", "mkdir -p out vendor", "echo built > out/app", "echo lib > vendor/lib"], { cache, artifacts });
      const second = fake.enqueue(["cat vendor/lib"], { cache });
      const { code, logs } = await runContainer(IMAGE, [
        "/usr/local/bin/runner", "run-single", "--url", fake.url, "--token", fake.runnerToken, "--executor", "docker",
        "--docker-image", BUSYBOX, "--docker-pull-policy", "never", "--max-builds", "2",
      ], {
        NetworkMode: "host",
        // The socket alone: no data directory of the engine is mounted.
        Binds: ["/var/run/docker.sock:/var/run/docker.sock"],
      });
      expect(code, logs).toBe(0);
      const producer = fake.jobs.get(first)!;
      expect(producer.status, producer.trace.toString()).toBe("success");
      expect(producer.trace.toString()).toContain(" 01O busybox\n");
      expect(producer.artifacts.find((a) => a.type === "archive")?.data.length).toBeGreaterThan(0);
      const consumer = fake.jobs.get(second)!;
      expect(consumer.status, consumer.trace.toString()).toBe("success");
      expect(consumer.trace.toString()).toContain(" 01O lib\n");
      expect(fake.deviations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 90_000);

  test("the binary copied into an image with none of our tools runs runner exec there", async () => {
    const script = "mkdir /project && cd /project && printf 'job:\\n  script: echo \"hello from $(. /etc/os-release; echo $ID)\"\\n' > .gitlab-ci.yml && runner exec job";
    const { code, logs } = await runContainer(DEBIAN, ["sh", "-c", script], {}, async (id) => {
      // docker cp: the binary, as a tar, into /usr/local/bin
      const tar = Bun.spawnSync(["tar", "-c", "-C", join(ROOT, "dist"), "runner"], { stdout: "pipe" });
      const response = await fetch(`http://localhost/containers/${id}/archive?path=/usr/local/bin`, {
        method: "PUT", body: tar.stdout, headers: { "content-type": "application/x-tar" }, unix: "/var/run/docker.sock",
      } as RequestInit);
      expect(response.status).toBe(200);
    });
    expect(code, logs).toBe(0);
    expect(logs).toContain("hello from debian\n");
    expect(logs).toContain("Job succeeded");
  }, 60_000);
});
