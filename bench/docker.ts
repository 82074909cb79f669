/**
 * A one-line job through the Docker executor (`dist/runner exec --executor docker`) against a bare
 * run of the same image and command through the Engine API (create, attach, start, wait, remove:
 * what `docker run --rm` does), side by side. Needs a running dockerd and the image
 * `local/busybox:latest` (the Docker tests build it). Prints figures; asserts nothing.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DockerApi } from "../src/executors/docker/docker-api.ts";

const BINARY = resolve(import.meta.dir, "../dist/runner");
const IMAGE = process.env.BENCH_IMAGE ?? "local/busybox:latest";
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const dir = mkdtempSync(join(tmpdir(), "runner-bench-docker-"));
Bun.spawnSync(["git", "init", "-q", "-b", "main"], { cwd: dir });
writeFileSync(join(dir, ".gitlab-ci.yml"), `job:\n  image: ${IMAGE}\n  script: echo hi\n`);

const api = new DockerApi();

/** `docker run --rm IMAGE echo hi` through the API. */
async function bareRun(): Promise<void> {
  const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", {
    body: { Image: IMAGE, Cmd: ["sh", "-c", "echo hi"], HostConfig: { AutoRemove: false } },
  });
  await api.request("POST", `/containers/${Id}/start`);
  await api.request("POST", `/containers/${Id}/wait`);
  await api.request("DELETE", `/containers/${Id}`, { query: { force: true } });
}

async function timed(what: () => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    await what();
    if (i > 0) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

const median = (t: number[]) => t[Math.floor(t.length / 2)]!;
const bare = await timed(bareRun);
const runner = await timed(() => {
  const r = Bun.spawnSync([BINARY, "exec", "--executor", "docker", "job"], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`runner exec failed: ${r.stderr}`);
});
console.log(`bare run (create, start, wait, remove)   median ${median(bare).toFixed(0)} ms  best ${bare[0]!.toFixed(0)} ms`);
console.log(`runner exec --executor docker (one job)  median ${median(runner).toFixed(0)} ms  best ${runner[0]!.toFixed(0)} ms`);
console.log(`ratio ${(median(runner) / median(bare)).toFixed(2)}× (target ≤ 1.5×)`);
