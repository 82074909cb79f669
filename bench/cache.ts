/**
 * A 200 MB cache through the shared S3 cache, as a fleet moves it: `dist/runner run-single` takes a
 * job from the fake GitLab that makes 200 MB of incompressible files and saves them as its cache
 * (zip, then a streamed PUT to a local @20minutes/s3rver), then a second runner (another local cache
 * directory) restores them (streamed GET, then extraction). Prints the upload and download rates
 * (from the trace's own timestamps) and the runner process's peak RSS, sampled every 20 ms.
 * Needs `bun run build`. Prints figures; asserts nothing.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FakeGitLab } from "../tests/fake-gitlab/fake-gitlab.ts";
import { startS3 } from "../tests/helpers/s3-server.ts";
import { scratchDir } from "./scratch.ts";

const BINARY = resolve(import.meta.dir, "../dist/runner");
const MB = Number(process.env.BENCH_CACHE_MB ?? 200);
const s3 = await startS3();
const fake = await new FakeGitLab().start();
const root = scratchDir("runner-bench-cache-");
const cache = [{ key: "big-non_protected", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;

async function run(dir: string): Promise<number> {
  const child = Bun.spawn([
    BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--max-builds", "1",
    "--builds-dir", join(dir, "builds"), "--cache-dir", join(dir, "cache"), "--cache-type", "s3", "--cache-shared",
    "--cache-s3-server-address", s3.endpoint, "--cache-s3-access-key", s3.accessKey, "--cache-s3-secret-key", s3.secretKey,
    "--cache-s3-bucket-name", s3.bucket, "--cache-s3-insecure",
  ], { stdout: "ignore", stderr: "pipe" });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      // ended
    }
  }, 20);
  const code = await child.exited;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`run-single exited ${code}: ${await new Response(child.stderr).text()}`);
  return peak;
}

/** Seconds between the trace lines that contain `from` and `to` (FF_TIMESTAMPS headers). */
function between(trace: string, from: string, to: string): number {
  const at = (needle: string) => {
    const line = trace.split("\n").find((l) => l.includes(needle));
    if (!line) throw new Error(`no "${needle}" in the trace`);
    return Date.parse(line.slice(0, 27));
  };
  return (at(to) - at(from)) / 1000;
}

const save = fake.enqueue([`mkdir -p vendor && for i in $(seq ${MB / 10}); do head -c 10485760 /dev/urandom > vendor/part-$i; done`], { cache });
const savePeak = await run(join(root, "a"));
const restore = fake.enqueue(["du -sm vendor"], { cache });
const restorePeak = await run(join(root, "b"));
const saved = fake.jobs.get(save)!.trace.toString();
const restored = fake.jobs.get(restore)!.trace.toString();
if (!restored.includes("Successfully extracted cache")) throw new Error(`the cache was not restored:\n${restored}`);
const up = between(saved, "Uploading cache.zip", "Created cache");
const down = between(restored, "Downloading cache from", "Successfully extracted cache");
const zip = between(saved, "Creating cache", "Uploading cache.zip");
console.log(`${MB} MB cache, incompressible, shell executor, local S3 server (s3rver)`);
console.log(`  archive (zip)            ${zip.toFixed(2)} s  ${(MB / zip).toFixed(0)} MB/s`);
console.log(`  upload (streamed PUT)    ${up.toFixed(2)} s  ${(MB / up).toFixed(0)} MB/s`);
console.log(`  download + extract       ${down.toFixed(2)} s  ${(MB / down).toFixed(0)} MB/s`);
console.log(`  peak RSS of the runner   save ${(savePeak / 1e6).toFixed(0)} MB, restore ${(restorePeak / 1e6).toFixed(0)} MB (target ≤ 150 MB)`);
await fake.stop();
await s3.stop();
