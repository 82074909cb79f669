import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSshExecutor } from "../../../src/executors/ssh/ssh-executor.ts";
import type { SshSettings } from "../../../src/executors/ssh/ssh-connection.ts";
import { livingMembers } from "../../../src/shell/supervisor.ts";
import { FakeGitLab } from "../../fake-gitlab/fake-gitlab.ts";
import { runNextJob, runnerConfig } from "../../helpers/next-job.ts";
import { git, makeRepository } from "../../helpers/git-fixture.ts";
import { makeJob, plain, testSignals, variable } from "../../helpers/job.ts";
import { sshdAvailable, startSshd, type TestSshd } from "../../helpers/sshd.ts";
import { runJob } from "../../../src/steps/run-job.ts";

const available = sshdAvailable();
const describeSsh = available ? describe : describe.skip;
let sshd: TestSshd;
beforeAll(async () => {
  if (available) sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

const settings = (over: Partial<SshSettings> = {}): SshSettings => ({
  host: "127.0.0.1", port: sshd.port, user: "root", identityFile: sshd.clientKey, knownHostsFile: sshd.knownHosts,
  disableStrictHostKeyChecking: false, ...over,
});

async function runOverSsh(job: ReturnType<typeof makeJob>, options: { settings?: SshSettings; signals?: ReturnType<typeof testSignals>; onTrace?: (t: string) => void } = {}) {
  const buildsDir = mkdtempSync(join(tmpdir(), "runner-ssh-builds-"));
  const executor = createSshExecutor({ settings: options.settings ?? settings(), buildsDir, projectPath: "t/0/acme/widget", graceMs: 500 });
  const chunks: string[] = [];
  const outcome = await runJob({
    job, executor, sources: { kind: "git" }, settings: { userAgent: "runner test" }, runner: { name: "ssh test" },
    signals: options.signals ?? testSignals(),
    sink: { write: (b) => { chunks.push(new TextDecoder().decode(b)); options.onTrace?.(chunks.join("")); } },
  });
  return { outcome, trace: plain(chunks.join("")), projectDir: join(buildsDir, "t/0/acme/widget") };
}

describeSsh("the SSH executor against a real sshd", () => {
  test("runs a job with get_sources on the remote host", async () => {
    const repo = makeRepository(2);
    const job = makeJob(["git log --format=%s -1", "echo \"shell=$0 dir=$(pwd)\""], {
      git_info: { repo_url: `file://${repo.bare}`, ref: "main", sha: repo.shas[1]!, before_sha: "0".repeat(40), ref_type: "branch", refspecs: [], depth: 0 },
      variables: [variable("GIT_STRATEGY", "clone")],
    });
    const { outcome, trace, projectDir } = await runOverSsh(job);
    expect(outcome.status).toBe("success");
    expect(trace).toContain('Preparing the "ssh" executor\nUsing SSH executor...\n');
    expect(trace).toContain("commit 2\n");
    expect(trace).toContain(`dir=${projectDir}\n`);
    expect(git(projectDir, "rev-parse", "HEAD")).toBe(repo.shas[1]!);
  });

  test("a failing job fails with its exit code", async () => {
    const { outcome, trace } = await runOverSsh(makeJob(["echo before", "exit 5"]));
    expect(outcome.failure).toMatchObject({ failureReason: "script_failure", exitCode: 5 });
    expect(trace).toContain("ERROR: Job failed: Process exited with status 5");
  });

  test("a host key that is not in known_hosts is refused, naming its fingerprint", async () => {
    const other = join(mkdtempSync(join(tmpdir(), "runner-kh-")), "known_hosts");
    writeFileSync(other, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOgZ1l0kq5HzdwnU2Yqz8k4yaLR6KeF2pu9I0sFMtA4v\n`);
    const changed = await runOverSsh(makeJob(["echo never"]), { settings: settings({ knownHostsFile: other }) });
    expect(changed.outcome.failure).toMatchObject({ failureReason: "runner_system_failure", system: true });
    expect(changed.trace).toMatch(/ERROR: Job failed \(system failure\): ssh: the host key of 127\.0\.0\.1:\d+ has changed: it is now SHA256:[A-Za-z0-9+/]+/);
    const unknown = await runOverSsh(makeJob(["echo never"]), { settings: settings({ knownHostsFile: "/nonexistent" }) });
    expect(unknown.trace).toMatch(/is not in \/nonexistent; add it, or set disable_strict_host_key_checking/);
    const unchecked = await runOverSsh(makeJob(["echo trusted"]), { settings: settings({ knownHostsFile: "/nonexistent", disableStrictHostKeyChecking: true }) });
    expect(unchecked.outcome.status).toBe("success");
  });

  test("cancel kills the remote process group, not just the channel", async () => {
    const signals = testSignals();
    let pgid = 0;
    const job = makeJob(['echo "pgid $(ps -o pgid= $$)"', "sleep 60 & sleep 61"], { afterScript: ["echo after=$CI_JOB_STATUS"] });
    const { outcome, trace } = await runOverSsh(job, {
      signals,
      onTrace: (text) => {
        const match = /pgid\s+(\d+)/.exec(text);
        if (match && pgid === 0) {
          pgid = Number(match[1]);
          setTimeout(() => signals.cancel_(), 200);
        }
      },
    });
    expect(pgid).toBeGreaterThan(0);
    expect(outcome.status).toBe("canceled");
    expect(trace).toContain("after=canceled\n");
    await Bun.sleep(100);
    expect(livingMembers(pgid)).toEqual([]);
  });

  test("the job timeout stops the remote stage and fails with job_execution_timeout", async () => {
    let pgid = 0;
    const job = makeJob(['echo "pgid $(ps -o pgid= $$)"', "sleep 60"], { runner_info: { timeout: 1 } });
    const started = performance.now();
    const { outcome } = await runOverSsh(job, {
      onTrace: (text) => void (pgid ||= Number(/pgid\s+(\d+)/.exec(text)?.[1] ?? 0)),
    });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(outcome.failure).toMatchObject({ failureReason: "job_execution_timeout" });
    await Bun.sleep(100);
    expect(pgid).toBeGreaterThan(0);
    expect(livingMembers(pgid)).toEqual([]);
  });

  test("a connection killed mid-job fails it as a runner system failure with a clear line", async () => {
    const before = new Set(sessions());
    const job = makeJob(["echo started", "sleep 30"]);
    const { outcome, trace } = await runOverSsh(job, {
      onTrace: (text) => {
        if (!text.includes("started\n")) return;
        for (const pid of sessions()) if (!before.has(pid)) Bun.spawnSync(["kill", "-9", String(pid)]);
      },
    });
    expect(outcome.failure).toMatchObject({ failureReason: "runner_system_failure", system: true });
    expect(trace).toMatch(/ERROR: Job failed \(system failure\): ssh: the connection to 127\.0\.0\.1:\d+ was lost/);
  });

  test("artifacts and cache go through SFTP: uploaded, downloaded, restored", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const root = mkdtempSync(join(tmpdir(), "runner-ssh-art-"));
      const runner = runnerConfig(fake, {
        name: "ssh", executor: "ssh", builds_dir: join(root, "remote-builds"), cache_dir: join(root, "cache"),
        ssh: { host: "127.0.0.1", port: sshd.port, user: "root", identity_file: sshd.clientKey, known_hosts_file: sshd.knownHosts }
      });
      const next = () => runNextJob(fake, runner);
      const cache = [{ key: "deps", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
      const producerId = fake.enqueue(["mkdir -p out vendor", "echo built > out/app", "ln -s app out/link", "echo lib > vendor/lib"], {
        artifacts: [{ name: "out", paths: ["out/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }], cache,
      });
      const producer = await next();
      expect(producer.status).toBe("success");
      expect(existsSync(join(root, "cache/acme/widget/deps/cache.zip"))).toBe(true);
      fake.enqueue(["cat out/app", "readlink out/link", "cat vendor/lib"], {
        cache,
        dependencies: [{ id: producerId, name: "build", token: producer.payload.token, artifacts_file: { filename: "out.zip", size: 1 } }],
      });
      const consumer = await next();
      const trace = consumer.trace.toString();
      expect(consumer.status).toBe("success");
      for (const line of ["\nbuilt\n", "\napp\n", "\nlib\n"]) expect(trace).toContain(line);
      expect(trace).toContain("Successfully extracted cache");
      expect(fake.deviations).toEqual([]);
      expect(readdirSync(join(root, "remote-builds"))).toEqual([expect.any(String)]);
    } finally {
      await fake.stop();
    }
  }, 30_000);
});

describeSsh("the SSH executor on a host whose sshd offers no SFTP (GitLab Runner's needs only a shell)", () => {
  test("artifacts, a cache and file variables move through the session with the host's own tools", async () => {
    const bare = await startSshd({ sftp: false });
    const fake = await new FakeGitLab().start();
    try {
      const root = mkdtempSync(join(tmpdir(), "runner-ssh-bare-"));
      const runner = runnerConfig(fake, {
        name: "ssh", executor: "ssh", builds_dir: join(root, "remote-builds"), cache_dir: join(root, "cache"),
        ssh: { host: "127.0.0.1", port: bare.port, user: "root", identity_file: bare.clientKey, known_hosts_file: bare.knownHosts },
      });
      const cache = [{ key: "deps", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
      const producerId = fake.enqueue(["mkdir -p out vendor", "echo built > out/app", "ln -s app out/link", "head -c 3000000 /dev/urandom > out/big", "echo lib > vendor/lib", "cat \"$CONFIG_FILE\""], {
        artifacts: [{ name: "out", paths: ["out/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }], cache,
        variables: [{ key: "CONFIG_FILE", value: "from a file variable", public: false, file: true }],
      });
      const producer = await runNextJob(fake, runner);
      const produced = producer.trace.toString();
      expect(producer.status, produced).toBe("success");
      expect(produced).toContain("offers no SFTP");
      expect(produced).toContain("\nfrom a file variable");
      fake.enqueue(["cat out/app", "readlink out/link", "wc -c < out/big", "cat vendor/lib"], {
        cache,
        dependencies: [{ id: producerId, name: "build", token: producer.payload.token, artifacts_file: { filename: "out.zip", size: 1 } }],
      });
      const consumer = await runNextJob(fake, runner);
      const trace = consumer.trace.toString();
      expect(consumer.status, trace).toBe("success");
      for (const line of ["\nbuilt\n", "\napp\n", "\n3000000\n", "\nlib\n"]) expect(trace).toContain(line);
      expect(trace).toContain("Successfully extracted cache");
      expect(fake.deviations).toEqual([]);
    } finally {
      await fake.stop();
      await bare.stop();
    }
  }, 60_000);

  test("a host with neither SFTP nor the tools fails the job naming what it lacks", async () => {
    const tools = mkdtempSync(join(tmpdir(), "runner-few-tools-"));
    for (const tool of ["cat", "mkdir"]) Bun.spawnSync(["ln", "-s", Bun.which(tool)!, join(tools, tool)]);
    const bare = await startSshd({ sftp: false, path: tools });
    try {
      const { outcome, trace } = await runOverSsh(makeJob(["echo never"]), { settings: settings({ port: bare.port, identityFile: bare.clientKey, knownHostsFile: bare.knownHosts }) });
      expect(outcome.status).toBe("failed");
      expect(outcome.failure?.failureReason).toBe("runner_system_failure");
      expect(trace).toMatch(/offers no SFTP .*the host lacks find, stat, rm, mv, ln, chmod, chown, touch, readlink/);
      expect(trace).not.toContain("never");
    } finally {
      await bare.stop();
    }
  }, 30_000);
});

/** The per-connection sshd processes serving our sessions. */
function sessions(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === sshd.pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}
