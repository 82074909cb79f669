import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
let fake: FakeGitLab;
let dir: string;

beforeAll(() => {
  if (!existsSync(BINARY)) {
    const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  }
});
beforeEach(async () => {
  fake = await new FakeGitLab().start();
  dir = mkdtempSync(join(tmpdir(), "runner-e2e-daemon-"));
});
afterEach(async () => {
  await fake.stop();
});

const env = () => ({ PATH: process.env.PATH!, HOME: dir });

/** Runs the binary to its end without blocking the fake GitLab in this process. */
async function runner(args: string[], extraEnv: Record<string, string> = {}) {
  const child = Bun.spawn([BINARY, ...args], { cwd: dir, env: { ...env(), ...extraEnv }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, out, err };
}

function writeConfig(extra = "", runnerExtra = ""): string {
  const file = join(dir, "config.toml");
  writeFileSync(file, `concurrent = 2\ncheck_interval = 1\nshutdown_timeout = 5\n${extra}\n[[runners]]\n  name = "e2e"\n  url = "${fake.url}"\n  token = "${fake.runnerToken}"\n  executor = "shell"\n  builds_dir = "${join(dir, "builds")}"\n${runnerExtra}`);
  return file;
}

describe("dist/runner as a GitLab runner", () => {
  test("register with a glrt- token verifies it and writes config.toml 0600; list, verify, unregister", async () => {
    const config = join(dir, "etc", "config.toml");
    const reg = await runner(["register", "--non-interactive", "--config", config, "--url", fake.url, "--token", fake.runnerToken, "--executor", "shell", "--name", "box-1"]);
    expect(reg.code).toBe(0);
    expect(reg.err).toContain("Runner registered successfully");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readFileSync(config, "utf8")).toContain(`token = "${fake.runnerToken}"`);
    expect(existsSync(join(dir, "etc", ".runner_system_id"))).toBe(true);
    const listed = await runner(["list", "--config", config]);
    expect(listed.out).toMatch(/^box-1 {2}Executor=shell Token=fakeRunne URL=http:\/\/127\.0\.0\.1:\d+\n$/);
    const verified = await runner(["verify", "--config", config]);
    expect(verified.code).toBe(0);
    expect(verified.err).toContain("Verifying runner... is valid");
    const removed = await runner(["unregister", "--config", config, "--name", "box-1"]);
    expect(removed.code).toBe(0);
    expect(readFileSync(config, "utf8")).not.toContain("box-1");
    expect(fake.deviations).toEqual([]);
  });

  test("register with a legacy registration token registers through POST /runners, with a warning", async () => {
    const config = join(dir, "config.toml");
    const reg = await runner(["register", "-n", "--config", config, "--url", fake.url, "--registration-token", "GR1348941legacyRegistration", "--tag-list", "a,b"]);
    expect(reg.code).toBe(0);
    expect(reg.err).toContain("Registration tokens are deprecated");
    expect(readFileSync(config, "utf8")).toContain('token = "glrt-t1_fromLegacyRegistration"');
    expect(fake.deviations).toEqual([]);
  });

  test("a legacy registration without tags takes untagged jobs, or GitLab would refuse it (commands/register.go)", async () => {
    const config = join(dir, "config.toml");
    const reg = await runner(["register", "-n", "--config", config, "--url", fake.url, "--registration-token", "GR1348941legacyRegistration"]);
    expect(reg.code, reg.err).toBe(0);
    expect(fake.requests.filter((r) => r.endpoint === "register").map((r) => r.status)).toEqual([201]);
  });

  test("an expiring token is kept with its dates, reset by run at three quarters of its life, and written back 0600 (commands/multi.go)", async () => {
    await fake.stop();
    fake = await new FakeGitLab({ tokenLifetimeMs: 4000 }).start();
    const config = join(dir, "rotating", "config.toml");
    const reg = await runner(["register", "-n", "--config", config, "--url", fake.url, "--token", fake.runnerToken, "--name", "rotating"]);
    expect(reg.code, reg.err).toBe(0);
    const written = readFileSync(config, "utf8");
    expect(written).toMatch(/token_obtained_at = \d{4}-\d\d-\d\dT/);
    expect(written).toMatch(/token_expires_at = \d{4}-\d\d-\d\dT/);
    const original = fake.runnerToken;
    const child = Bun.spawn([BINARY, "run", "--config", config], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    for (let i = 0; i < 150 && fake.resets.length === 0; i++) await Bun.sleep(50);
    expect(fake.resets.length).toBe(1);
    expect(fake.resets[0]!.from).toBe(original);
    // The new token is used at once: a job queued after the reset is taken and run.
    const id = fake.enqueue(["echo after the reset"]);
    await fake.finished(id);
    child.kill("SIGQUIT");
    await child.exited;
    expect(fake.jobs.get(id)!.status).toBe("success");
    const rewritten = readFileSync(config, "utf8");
    expect(rewritten).toContain(`token = "${fake.runnerToken}"`);
    expect(rewritten).not.toContain(original);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(fake.deviations).toEqual([]);
  }, 30_000);

  test("unregister and verify --delete keep a runner GitLab did not confirm removing", async () => {
    const config = join(dir, "keep", "config.toml");
    const reg = await runner(["register", "-n", "--config", config, "--url", fake.url, "--token", fake.runnerToken, "--name", "kept"]);
    expect(reg.code).toBe(0);
    await fake.stop();
    const removed = await runner(["unregister", "--config", config, "--name", "kept"]);
    expect(removed.code).toBe(1);
    expect(removed.err).toContain("it stays in");
    expect(readFileSync(config, "utf8")).toContain('name = "kept"');
    const verified = await runner(["verify", "--delete", "--config", config]);
    expect(verified.code).toBe(1);
    expect(readFileSync(config, "utf8")).toContain('name = "kept"');
  });

  test("a refused token fails register with a clear line and exit 1", async () => {
    const reg = await runner(["register", "-n", "--config", join(dir, "c.toml"), "--url", fake.url, "--token", "glrt-nope"]);
    expect(reg.code).toBe(1);
    expect(reg.err).toContain("Registering runner... forbidden");
  });

  test("run-single runs --max-builds jobs and exits 0", async () => {
    const ids = [fake.enqueue(["echo first"]), fake.enqueue(["echo second"])];
    const result = await runner(["run-single", "--url", fake.url, "--token", fake.runnerToken, "--executor", "shell", "--builds-dir", join(dir, "b"), "--max-builds", "2"]);
    expect(result.code).toBe(0);
    expect(ids.map((id) => fake.jobs.get(id)!.status)).toEqual(["success", "success"]);
    expect(result.err).not.toContain(fake.runnerToken);
    // A runner manager of its own in GitLab, the same on every request (and every run on this machine).
    expect([...fake.systemIds]).toEqual([expect.stringMatching(/^[sr]_[0-9A-Za-z]{12}$/)]);
    expect(fake.deviations).toEqual([]);
  });

  // GitLab Runner keeps a job's trace in a temporary file up to output_limit (helpers/trace/buffer.go);
  // the executable writes it from a thread of its own once a job passes 256 KiB (src/trace/trace-file-writer.ts).
  test("a loud job's trace reaches GitLab whole up to the output limit, in order, from the executable's writer thread, and leaves no file", async () => {
    const tmp = join(dir, "tmp");
    mkdirSync(tmp);
    const id = fake.enqueue(["seq -f 'line %08g of a loud job' 1 300000"]);
    const result = await runner(["run-single", "--url", fake.url, "--token", fake.runnerToken, "--executor", "shell", "--builds-dir", join(dir, "b"), "--max-builds", "1"], { TMPDIR: tmp });
    expect(result.code, result.err).toBe(0);
    const trace = fake.jobs.get(id)!.trace.toString();
    const numbers = [...trace.matchAll(/line (\d{8}) of a loud job\n/g)].map((match) => Number(match[1]));
    // 4 MiB of lines of 60 bytes with their timestamps: more than the writer thread's 2 MiB of slots.
    expect(numbers.length).toBeGreaterThan(60_000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(trace).toContain("Job's log exceeded limit of 4194304 bytes.");
    expect(fake.deviations).toEqual([]);
    expect(readdirSync(tmp).filter((name) => name.startsWith("runner-trace-"))).toEqual([]);
  }, 60_000);

  test("run-single reads GitLab Runner's environment variables and stops after --wait-timeout", async () => {
    const started = performance.now();
    const result = await runner(["run-single", "--wait-timeout", "1"], { CI_SERVER_URL: fake.url, CI_SERVER_TOKEN: fake.runnerToken });
    expect(result.code).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(fake.requests.some((r) => r.endpoint === "request")).toBe(true);
  });

  test("run: SIGQUIT stops asking and lets the running job finish", async () => {
    const config = writeConfig();
    const id = fake.enqueue(["echo started", "sleep 1", "echo finished"]);
    const child = Bun.spawn([BINARY, "run", "--config", config], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    while (!fake.jobs.get(id)!.trace.toString().includes("started")) await Bun.sleep(20);
    child.kill("SIGQUIT");
    expect(await child.exited).toBe(0);
    const job = fake.jobs.get(id)!;
    expect(job.status).toBe("success");
    expect(job.trace.toString()).toContain("finished");
  });

  // common/build.go run: a signal to the runner ends its jobs with `aborted: <signal>`, a runner_system_failure.
  test("run: SIGTERM aborts the running job, sends its final update as GitLab Runner's interrupted runner does, and exits", async () => {
    const config = writeConfig();
    const id = fake.enqueue(["echo started", "sleep 60"]);
    const child = Bun.spawn([BINARY, "run", "--config", config], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    while (!fake.jobs.get(id)!.trace.toString().includes("started")) await Bun.sleep(20);
    const sent = performance.now();
    child.kill("SIGTERM");
    await child.exited;
    expect(performance.now() - sent).toBeLessThan(6000);
    expect(fake.jobs.get(id)!.status).toBe("failed");
    expect(fake.jobs.get(id)!.failureReason).toBe("runner_system_failure");
    expect(fake.jobs.get(id)!.trace.toString()).toContain("ERROR: Job failed (system failure): aborted: terminated");
    expect(fake.deviations).toEqual([]);
  });

  test("run: SIGTERM ends a job whose setsid child holds its output, sends the final update, and leaves no process nor secret file", async () => {
    const config = writeConfig();
    const token = `${5000 + (process.pid % 1000)}.4711`;
    const id = fake.enqueue([`setsid sleep ${token} &`, "echo started", "sleep 60"], {
      variables: [{ key: "SECRET_FILE", value: "top-secret-content", public: false, masked: false, file: true }],
    });
    const child = Bun.spawn([BINARY, "run", "--config", config], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    while (!fake.jobs.get(id)!.trace.toString().includes("started")) await Bun.sleep(20);
    const sent = performance.now();
    child.kill("SIGTERM");
    await child.exited;
    expect(performance.now() - sent).toBeLessThan(8000);
    expect(fake.jobs.get(id)!.status).toBe("failed");
    expect(Bun.spawnSync(["pgrep", "-f", token]).stdout.toString()).toBe("");
    const leftovers = Bun.spawnSync(["grep", "-rl", "top-secret-content", join(dir, "builds")]).stdout.toString();
    expect(leftovers).toBe("");
  });

  test("run serves Prometheus metrics on listen_address", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const config = writeConfig(`listen_address = "127.0.0.1:${port}"`);
    const id = fake.enqueue(["echo metered"]);
    const child = Bun.spawn([BINARY, "run", "--config", config], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    await fake.finished(id);
    let text = "";
    for (let i = 0; i < 50 && !/gitlab_runner_job_duration_seconds_count\{[^}]*\} 1/.test(text); i++) {
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => "");
      await Bun.sleep(50);
    }
    child.kill("SIGQUIT");
    await child.exited;
    expect(text).toMatch(/gitlab_runner_jobs_total\{runner="fakeRunne",runner_name="[^"]+",system_id="s_[0-9a-f]{12}"\} 1/);
    expect(text).toMatch(/gitlab_runner_api_request_statuses_total\{runner="fakeRunne",system_id="[^"]*",endpoint="update_job",status="200"\}/);
  });

  test("a 512 MiB artifact streams: the runner's memory does not grow with it", async () => {
    const config = writeConfig();
    const id = fake.enqueue(["head -c 512M /dev/zero > big.bin"], {
      artifacts: [{ name: "big", paths: ["big.bin"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }],
    });
    const child = Bun.spawn([BINARY, "run", "--config", config], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    const job = await fake.finished(id);
    const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]);
    child.kill("SIGQUIT");
    await child.exited;
    expect(job.status).toBe("success");
    expect(job.artifacts[0]!.data.length).toBeGreaterThan(100_000);
    expect(peakKiB / 1024).toBeLessThan(200);
  }, 60_000);

  test("a config.toml with a wrong type exits 2 naming the key; unknown keys only warn", async () => {
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, `concurrent = "many"\n`);
    const result = await runner(["run", "--config", bad]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^Error: .*bad\.toml: concurrent: /);
    const unknown = writeConfig("colour = \"red\"");
    const child = Bun.spawn([BINARY, "run", "--config", unknown], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(500);
    child.kill("SIGQUIT");
    const err = await new Response(child.stderr).text();
    expect(await child.exited).toBe(0);
    expect(err).toContain("unknown key colour");
  });
});

// A job's trace is kept in a temporary file (GitLab Runner's helpers/trace/buffer.go keeps it so
// too). A full disk must not hold the job up: its output is still read to the end, GitLab gets the
// trace the file holds (with a checksum of exactly that), and the job fails as a runner system
// failure, the runner's log saying why. The full disk is a file-size limit (`ulimit -f`, SIGXFSZ
// ignored): writes past it fail with EFBIG, as they would with ENOSPC, and no mount is needed.
/** run-single for one job, every file the runner writes limited to `kib` KiB. */
async function runLimited(kib: number, tmp: string) {
  const argv = [BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--executor", "shell", "--builds-dir", join(dir, "b"), "--output-limit", "65536", "--max-builds", "1"];
  const child = Bun.spawn(["bash", "-c", `trap '' XFSZ; ulimit -f ${kib}; exec "$@"`, "limited", ...argv], {
    cwd: dir, env: { PATH: process.env.PATH!, HOME: dir, TMPDIR: tmp }, stdout: "pipe", stderr: "pipe",
  });
  const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  return { err, code };
}

describe("a trace file the disk refuses", () => {
  // 2 MiB: the refusal comes from the writer's thread (past 256 KiB); 128 KiB: from the job's own
  // thread, which writes a trace's first slot where it stands.
  for (const kib of [2048, 128]) {
    test(`at ${kib} KiB: the job is not held up, fails as a runner system failure, and GitLab gets what the file holds`, async () => {
      const tmp = join(dir, "tmp");
      mkdirSync(tmp);
      const id = fake.enqueue(["seq -f 'line %08g of a loud job' 1 200000", "echo the script went on"]);
      const started = performance.now();
      const result = await runLimited(kib, tmp);
      expect(result.code, result.err).toBe(0);
      expect(performance.now() - started).toBeLessThan(30_000);
      const job = fake.jobs.get(id)!;
      expect(job.status).toBe("failed");
      expect(job.failureReason).toBe("runner_system_failure");
      expect(result.err).toMatch(/the job's trace could not be stored: E(FBIG|NOSPC)/);
      // What GitLab holds is a whole prefix of the job's output, ending where the file did.
      const trace = job.trace.toString();
      const numbers = [...trace.matchAll(/line (\d{8}) of a loud job\n/g)].map((match) => Number(match[1]));
      expect(numbers.length).toBeGreaterThan(100);
      expect(numbers.every((n, i) => n === i + 1)).toBe(true);
      expect(job.traceLength).toBeLessThanOrEqual(kib * 1024);
      // Sizes and checksum of the final update match the trace GitLab stored.
      expect(fake.deviations).toEqual([]);
      expect(readdirSync(tmp).filter((name) => name.startsWith("runner-trace-"))).toEqual([]);
    }, 60_000);
  }
});
