/**
 * A fleet's wall time as runners are added: 60 queued jobs (each restores and saves one shared S3
 * cache and sleeps BENCH_JOB_SECONDS, default 1) taken by 1, 2 and 3 `runner run` processes with
 * `concurrent = 4` each, against the fake GitLab (which answers 409 to every 7th request while jobs
 * wait, as GitLab does to a request that lost a race) and a local S3 server. Needs `bun run build`.
 * Prints figures; asserts nothing.
 */

import { join } from "node:path";
import { FakeGitLab } from "../tests/fake-gitlab/fake-gitlab.ts";
import { enqueueCachedJobs, startRunner } from "../tests/helpers/fleet.ts";
import { startS3 } from "../tests/helpers/s3-server.ts";
import { scratchDir } from "./scratch.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 60);
const SECONDS = Number(process.env.BENCH_JOB_SECONDS ?? 1);
const s3 = await startS3();

async function fleet(size: number): Promise<{ wall: number; conflicts: number }> {
  const fake = await new FakeGitLab().start();
  fake.conflictEvery = 7;
  fake.keepTraces = false;
  const root = scratchDir("runner-bench-fleet-");
  const ids = enqueueCachedJobs(fake, JOBS, SECONDS);
  const started = performance.now();
  const runners = Array.from({ length: size }, (_, i) => startRunner(fake, s3, join(root, `runner-${i}`), 4));
  while (ids.some((id) => !["success", "failed"].includes(fake.jobs.get(id)!.status))) await Bun.sleep(50);
  const wall = (performance.now() - started) / 1000;
  await Promise.all(runners.map((r) => r.stop()));
  const failed = ids.filter((id) => fake.jobs.get(id)!.status !== "success").length;
  await fake.stop();
  if (failed > 0) throw new Error(`${failed} jobs failed`);
  return { wall, conflicts: fake.conflicts };
}

console.log(`${JOBS} jobs of ${SECONDS} s, each restoring and saving a shared S3 cache; concurrent = 4 per runner`);
for (const size of [1, 2, 3]) {
  const { wall, conflicts } = await fleet(size);
  console.log(`  ${size} runner${size > 1 ? "s" : " "}  wall ${wall.toFixed(1).padStart(5)} s  (ideal ${((JOBS / (4 * size)) * SECONDS).toFixed(1)} s of sleeping)  409s ${conflicts}`);
}
await s3.stop();
