/**
 * A one-line job through the Docker executor against `docker run --rm` of the same image and
 * command, interleaved in one run (a round is one of each, in turn): `runner exec --executor
 * docker` as it runs by default with the helper image present (the sources are copied in, so no
 * stage needs the helper's git: one container), with the helper named (two containers, as GitLab
 * Runner makes them), and the bare Engine API calls `docker run --rm` makes (create, start, wait,
 * remove) for reference. Needs a running dockerd, the image `local/busybox:latest` (the Docker tests
 * build it) and `runner-helper:<version>` (`bun run image`).
 * Prints figures; asserts nothing.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { DockerApi } from "../src/executors/docker/docker-api.ts";
import { scratchDir } from "./scratch.ts";

const BINARY = resolve(import.meta.dir, "../dist/runner");
const IMAGE = process.env.BENCH_IMAGE ?? "local/busybox:latest";
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const dir = scratchDir("runner-bench-docker-");
Bun.spawnSync(["git", "init", "-q", "-b", "main"], { cwd: dir });
writeFileSync(join(dir, ".gitlab-ci.yml"), `job:\n  image: ${IMAGE}\n  script: echo hi\n`);
const api = new DockerApi();

function spawn(argv: string[]): void {
  const r = Bun.spawnSync(argv, { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
}

const contenders: Record<string, () => Promise<void> | void> = {
  "docker run --rm (the CLI)": () => spawn(["docker", "run", "--rm", IMAGE, "sh", "-c", "echo hi"]),
  "Engine API: create, start, wait, remove": async () => {
    const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", { body: { Image: IMAGE, Cmd: ["sh", "-c", "echo hi"] } });
    await api.request("POST", `/containers/${Id}/start`);
    await api.request("POST", `/containers/${Id}/wait`);
    await api.request("DELETE", `/containers/${Id}`, { query: { force: true } });
  },
  "runner exec, helper image present (one container)": () => spawn([BINARY, "exec", "--executor", "docker", "job"]),
  "runner exec, --helper-image named (helper + build)": () => spawn([BINARY, "exec", "--executor", "docker", "--helper-image", `runner-helper:${pkg.version}`, "job"]),
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (let round = 0; round <= RUNS; round++) {
  for (const [name, run] of Object.entries(contenders)) {
    const started = performance.now();
    await run();
    if (round > 0) times[name]!.push(performance.now() - started);
  }
}
const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
const base = median(times["docker run --rm (the CLI)"]!);
for (const [name, t] of Object.entries(times)) {
  console.log(`${name.padEnd(56)} median ${median(t).toFixed(0).padStart(4)} ms  best ${Math.min(...t).toFixed(0).padStart(4)} ms  ${(median(t) / base).toFixed(2)}× docker run --rm`);
}
console.log(`target: ≤ 1.3× docker run --rm; ${RUNS} interleaved rounds`);
