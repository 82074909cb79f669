import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { FakeGitLab } from "../../fake-gitlab/fake-gitlab.ts";
import { runNextJob, runnerConfig } from "../../helpers/next-job.ts";
import { removeLeftovers } from "../../../src/executors/docker/labels.ts";
import { DockerApi } from "../../../src/executors/docker/docker-api.ts";
import { createDockerExecutor, type ContainerImage, type DockerSettings, type ServiceImage } from "../../../src/executors/docker/docker-executor.ts";
import { serviceAliases } from "../../../src/executors/docker/services.ts";
import { dockerSettings } from "../../../src/executors/docker/docker-options.ts";
import { runJob } from "../../../src/steps/run-job.ts";
import { git, makeRepository } from "../../helpers/git-fixture.ts";
import { BUSYBOX, DEBIAN, dockerAvailable, ENGINE_SETTINGS, labelled, startDocker } from "../../helpers/docker.ts";
import { makeJob, plain, testSignals, variable } from "../../helpers/job.ts";

const available = dockerAvailable();
const describeDocker = available ? describe : describe.skip;
beforeAll(async () => {
  if (available) await startDocker();
}, 300_000);

let jobs = 0;
async function runInDocker(
  job: ReturnType<typeof makeJob>,
  options: {
    image?: Partial<ContainerImage>; settings?: DockerSettings; signals?: ReturnType<typeof testSignals>; onTrace?: (t: string) => void;
    services?: ServiceImage[]; jobVariables?: string[]; waitSeconds?: number; keptVolume?: string;
    /** The runner's stages in the job's container too (as for a local job whose sources are copied in). */
    oneContainer?: boolean;
  } = {},
) {
  const api = new DockerApi();
  const owner = { runner: "test", job: `test-${process.pid}-${++jobs}` };
  const executor = createDockerExecutor({
    api, owner, projectPath: "acme/widget", graceMs: 500, settings: { ...ENGINE_SETTINGS, ...options.settings },
    image: { name: BUSYBOX, pullPolicies: ["if-not-present"], ...options.image },
    helperImage: { name: DEBIAN, pullPolicies: ["if-not-present"] },
    ...(options.services ? { services: options.services } : {}), ...(options.jobVariables ? { jobVariables: options.jobVariables } : {}),
    ...(options.waitSeconds ? { waitForServicesSeconds: options.waitSeconds } : {}),
    ...(options.keptVolume ? { keptVolume: options.keptVolume } : {}),
    ...(options.oneContainer ? { helperOptional: true } : {}),
  });
  const chunks: string[] = [];
  const outcome = await runJob({
    job, executor, sources: { kind: "git" }, settings: { userAgent: "runner test" }, runner: { name: "docker test" },
    signals: options.signals ?? testSignals(),
    sink: { write: (b) => { chunks.push(new TextDecoder().decode(b)); options.onTrace?.(chunks.join("")); } },
  });
  return { outcome, trace: plain(chunks.join("")), left: await labelled(`dev.runner.job=${owner.job}`), job: owner.job };
}

/** The execs the engine made in a job's containers between two instants (`GET /events`, which ends at `until`). */
async function execsOf(job: string, since: number, until: number): Promise<number> {
  const filters = JSON.stringify({ type: ["container"], event: ["exec_create"], label: [`dev.runner.job=${job}`] });
  const query = `since=${Math.floor(since / 1000) - 1}&until=${Math.ceil(until / 1000) + 1}&filters=${encodeURIComponent(filters)}`;
  const text = await (await fetch(`http://docker/events?${query}`, { unix: "/var/run/docker.sock" })).text();
  return text.split("\n").filter((line) => line.trim() !== "").length;
}

const nothingLeft = { containers: 0, networks: 0, volumes: 0 };

describeDocker("the Docker executor against a real dockerd", () => {
  test("get_sources in the helper from a git remote, the script in the job's image, nothing left behind", async () => {
    const repo = makeRepository(2);
    const job = makeJob(["cat file2.txt", "echo \"dir=$(pwd) busybox=$(readlink /bin/sh)\""], {
      git_info: { repo_url: `file://${repo.bare}`, ref: "main", sha: repo.shas[1]!, before_sha: "0".repeat(40), ref_type: "branch", refspecs: [], depth: 0 },
      variables: [variable("GIT_STRATEGY", "clone")],
    });
    const bare = dirname(repo.bare);
    const { outcome, trace, left } = await runInDocker(job, { settings: { volumes: [`${bare}:${bare}:ro`] } });
    expect(outcome.status, trace).toBe("success");
    expect(trace).toContain(`Preparing the "docker" executor\nUsing Docker executor with image ${BUSYBOX} ...\n`);
    expect(trace).toContain("Checking out " + repo.shas[1]!.slice(0, 8));
    expect(trace).toContain("$ cat file2.txt\ncontent 2\n");
    expect(trace).toContain("dir=/builds/acme/widget busybox=busybox\n");
    expect(left).toEqual(nothingLeft);
    expect(git(repo.bare, "rev-parse", "main")).toBe(repo.shas[1]!);
  }, 60_000);

  test("a failing job fails with its exit code and stages stay isolated", async () => {
    const { outcome, trace, left } = await runInDocker(makeJob(["export FROM_SCRIPT=1; echo before", "exit 5"], {
      afterScript: ['echo "after sees [${FROM_SCRIPT:-}] status=$CI_JOB_STATUS"'],
    }));
    expect(outcome.failure).toMatchObject({ failureReason: "script_failure", exitCode: 5 });
    expect(trace).toContain("after sees [] status=failed\n");
    expect(trace).toContain("ERROR: Job failed: exit code 5");
    expect(left).toEqual(nothingLeft);
  }, 60_000);

  test("a missing image with pull policy never fails with image_pull_failure", async () => {
    const { outcome, trace, left } = await runInDocker(makeJob(["echo never"]), {
      image: { name: "local/does-not-exist:1", pullPolicies: ["never"] },
    });
    expect(outcome.failure).toMatchObject({ failureReason: "image_pull_failure" });
    expect(trace).toContain('failed to pull image "local/does-not-exist:1" with specified policies [never]');
    expect(left).toEqual(nothingLeft);
  }, 60_000);

  // executors/docker in GitLab Runner starts each stage with an exec or an attach; here the
  // container's own first process, `runner helper serve` from the tools volume, serves the files and
  // starts the stages on the attach stream, so a job needs no exec (each costs the engine ~50-70 ms).
  test("in one container, its first process serves the files and runs the stages: no exec, every byte before the stage's end", async () => {
    // A container's process writes into pipes (Docker's FIFOs), which a script may open again by name.
    const job = makeJob(["head -c 3000000 /dev/zero | tr '\\0' a; echo; echo tail-line", "echo \"uid=$(id -u) stages=$(stat -c %a /builds/.runner-stages)\"", "echo by-name > /dev/stdout; echo err-by-name | tee /dev/stderr >/dev/null"], {
      afterScript: ["echo after-ran"], variables: [variable("GIT_STRATEGY", "none")],
    });
    await runInDocker(makeJob(["true"], { variables: [variable("GIT_STRATEGY", "none")] }), { oneContainer: true }); // fills the tools volume, if this build's is not there yet
    const since = Date.now();
    const { outcome, trace, left, job: owner } = await runInDocker(job, { oneContainer: true });
    const execs = await execsOf(owner, since, Date.now());
    expect(outcome.status, trace.slice(-2000)).toBe("success");
    expect(execs).toBe(0);
    expect(trace.match(/a+/g)?.find((run) => run.length > 1000)?.length).toBe(3_000_000);
    expect(trace).toContain("\ntail-line\n");
    expect(trace).toContain("uid=0 stages=711\n");
    expect(trace).toContain("by-name\nerr-by-name\n");
    expect(trace).toContain("after-ran\n");
    expect(left).toEqual(nothingLeft);
  }, 60_000);

  test("a stage's stray in a session of its own, holding the stage's output, does not hold the stage up", async () => {
    const job = makeJob(["setsid sleep 30 & echo stray-started"], { afterScript: ["echo after-ran"], variables: [variable("GIT_STRATEGY", "none")] });
    const started = performance.now();
    const { outcome, trace, left } = await runInDocker(job, { oneContainer: true });
    expect(outcome.status, trace).toBe("success");
    expect(trace).toContain("stray-started\n");
    expect(trace).toContain("after-ran\n");
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(left).toEqual(nothingLeft);
  }, 60_000);

  for (const oneContainer of [false, true]) test(`cancel stops the stage's processes and leaves no container, network or volume (${oneContainer ? "one container" : "helper and build containers"})`, async () => {
    const signals = testSignals();
    const job = makeJob(["echo started", "sleep 60 & sleep 61"], {
      afterScript: ["echo after=$CI_JOB_STATUS", "echo \"sleeping=$(ps | grep -c '[s]leep 6')\""],
    });
    const started = performance.now();
    const { outcome, trace, left } = await runInDocker(job, {
      signals, oneContainer,
      onTrace: (text) => void (text.includes("started\n") && setTimeout(() => signals.cancel_(), 200)),
    });
    expect(outcome.status).toBe("canceled");
    expect(trace).toContain("after=canceled\n");
    expect(trace).toContain("sleeping=0\n"); // the stage's whole process group, the background sleep too
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(left).toEqual(nothingLeft);
  }, 60_000);

  test("stage scripts (they hold the job's variables) are readable by the stage's user only, whoever it is", async () => {
    const job = makeJob(["echo \"uid=$(id -u) mode=$(stat -c %a /builds/.runner-stages/*.sh)\""], {
      variables: [variable("GIT_STRATEGY", "none"), variable("KUBECONFIG", "secret-config", { file: true })],
    });
    const { outcome, trace } = await runInDocker(job);
    expect(outcome.status, trace).toBe("success");
    expect(trace).toContain("uid=0 mode=600\n");
    const nobody = await runInDocker(makeJob(["echo \"uid=$(id -u)\""]), { image: { user: "65534:65534" } });
    expect(nobody.outcome.status, nobody.trace).toBe("success");
    expect(nobody.trace).toContain("uid=65534\n");
  }, 60_000);

  test("a kept build volume loses the stage scripts a killed run left behind", async () => {
    const volume = `runner-test-kept-${process.pid}`;
    try {
      const first = await runInDocker(makeJob(["echo planted > /builds/.runner-stages/left-by-a-killed-run.sh"]), { keptVolume: volume });
      expect(first.outcome.status, first.trace).toBe("success");
      const second = await runInDocker(makeJob(["ls /builds/.runner-stages/"]), { keptVolume: volume });
      expect(second.outcome.status, second.trace).toBe("success");
      expect(second.trace).not.toContain("left-by-a-killed-run");
    } finally {
      await new DockerApi().request("DELETE", `/volumes/${volume}`).catch(() => {});
    }
  }, 60_000);

  // GitLab Runner's docker executor runs every stage script under `umask 0000` unless
  // FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is set; then the project directory is handed to the build
  // image's user after the helper's stages (executors/docker/docker_command.go isUmaskDisabled).
  test("umask 0000 lets a non-root image change what the root helper fetched; without it the files are handed over", async () => {
    const repo = makeRepository(1);
    const bare = dirname(repo.bare);
    const gitInfo = { repo_url: `file://${repo.bare}`, ref: "main", sha: repo.shas[0]!, before_sha: "0".repeat(40), ref_type: "branch" as const, refspecs: [], depth: 0 };
    const script = ['echo "owner=$(stat -c %u file1.txt) mode=$(stat -c %a file1.txt)"', "echo more >> file1.txt"];
    const options = { settings: { volumes: [`${bare}:${bare}:ro`] }, image: { user: "65534:65534" } };
    const open = await runInDocker(makeJob(script, { git_info: gitInfo, variables: [variable("GIT_STRATEGY", "clone")] }), options);
    expect(open.outcome.status, open.trace).toBe("success");
    expect(open.trace).toContain("owner=0 mode=666\n");
    const handed = await runInDocker(makeJob(script, {
      git_info: gitInfo, variables: [variable("GIT_STRATEGY", "clone"), variable("FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR", "true")],
    }), options);
    expect(handed.outcome.status, handed.trace).toBe("success");
    expect(handed.trace).toContain("Not using umask - FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is set!\n");
    expect(handed.trace).toContain("owner=65534 mode=644\n");
  }, 60_000);

  test("FF_USE_INIT_WITH_DOCKER_EXECUTOR starts the containers with --init; FF_NETWORK_PER_BUILD gives the job a network", async () => {
    const plainRun = await runInDocker(makeJob(["echo pid1=$(cat /proc/1/comm)"]));
    expect(plainRun.trace).not.toContain("pid1=docker-init");
    let networks = -1;
    const job = makeJob(["echo pid1=$(cat /proc/1/comm)", "sleep 1"], {
      variables: [variable("GIT_STRATEGY", "none"), variable("FF_USE_INIT_WITH_DOCKER_EXECUTOR", "1"), variable("FF_NETWORK_PER_BUILD", "true")],
    });
    const flagged = await runInDocker(job, {
      onTrace: (text) => {
        if (networks === -1 && text.includes("$ sleep 1")) {
          networks = 0;
          void labelled(`dev.runner.job=test-${process.pid}-${jobs}`).then((l) => (networks = l.networks));
        }
      },
    });
    expect(flagged.outcome.status, flagged.trace).toBe("success");
    expect(flagged.trace).toContain("pid1=docker-init\n");
    expect(networks).toBe(1);
    expect(flagged.left).toEqual(nothingLeft);
  }, 60_000);

  // executors/docker/docker.go createHostConfig: cap_drop and security_opt reach the containers.
  test("cap_drop and security_opt of [runners.docker] are in force in the job's container", async () => {
    const script = ["grep -E '^(CapEff|NoNewPrivs)' /proc/self/status"];
    const open = await runInDocker(makeJob(script));
    expect(open.trace).not.toContain("CapEff:\t0000000000000000");
    const hardened = await runInDocker(makeJob(script), {
      settings: { hostConfig: dockerSettings({ cap_drop: ["ALL"], security_opt: ["no-new-privileges"] }).hostConfig! },
    });
    expect(hardened.outcome.status, hardened.trace).toBe("success");
    expect(hardened.trace).toContain("CapEff:\t0000000000000000");
    expect(hardened.trace).toContain("NoNewPrivs:\t1");
  }, 60_000);

  test("the job timeout fails with job_execution_timeout and leaves nothing", async () => {
    const job = makeJob(["sleep 60"], { runner_info: { timeout: 2 } });
    const { outcome, left } = await runInDocker(job);
    expect(outcome.failure).toMatchObject({ failureReason: "job_execution_timeout" });
    expect(left).toEqual(nothingLeft);
  }, 60_000);
});

describeDocker("services and images", () => {
  test("a service is reached by its alias and its derived names, sees the job's variables, and is removed", async () => {
    const job = makeJob([
      "wget -qO- http://web:8080/ && wget -qO- http://local-busybox:8080/ && wget -qO- http://local__busybox:8080/greeting",
    ], { variables: [variable("GIT_STRATEGY", "none"), variable("GREETING", "hello from the job")] });
    const { outcome, trace, left } = await runInDocker(job, {
      services: [{
        name: BUSYBOX, pullPolicies: ["if-not-present"], aliases: serviceAliases(BUSYBOX, "web, www"), ports: [8080],
        command: ["sh", "-c", "mkdir -p /www && echo pong > /www/index.html && echo \"$GREETING\" > /www/greeting && sleep 1 && httpd -f -p 8080 -h /www"],
      }],
      jobVariables: ["GREETING=hello from the job"],
    });
    expect(outcome.status, trace).toBe("success");
    expect(trace).toContain("pong\npong\nhello from the job\n");
    expect(left).toEqual(nothingLeft);
  }, 60_000);

  test("a service that never opens its port is named with its log, and the job goes on", async () => {
    const { outcome, trace } = await runInDocker(makeJob(["echo job ran"]), {
      services: [{ name: BUSYBOX, pullPolicies: ["if-not-present"], aliases: ["db"], ports: [5432], command: ["sh", "-c", "echo cannot start the database; sleep 30"] }],
      waitSeconds: 1,
    });
    expect(outcome.status).toBe("success");
    expect(trace).toContain(`*** WARNING: Service ${BUSYBOX} probably didn't start properly.`);
    expect(trace).toContain("cannot start the database");
    expect(trace).toContain("job ran\n");
  }, 60_000);

  test("an image entrypoint that execs its command still works", async () => {
    const { outcome, trace } = await runInDocker(makeJob(["echo \"marker=$(cat /tmp/entrypoint-ran 2>/dev/null)\""]), {
      image: { entrypoint: ["sh", "-c", "echo yes > /tmp/entrypoint-ran; exec \"$@\"", "entrypoint"] },
    });
    expect(outcome.status, trace).toBe("success");
    expect(trace).toContain("marker=yes\n");
  }, 60_000);
});

describeDocker("leftovers of a crashed run", () => {
  test("what a dead process made is removed at start-up; what a live one uses is kept", async () => {
    const api = new DockerApi();
    const make = async (pid: number) => {
      const labels = { "dev.runner.managed": "true", "dev.runner.owner": "leftover-test", "dev.runner.host": hostname(), "dev.runner.pid": String(pid) };
      const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", { body: { Image: BUSYBOX, Cmd: ["sleep", "30"], Labels: labels } });
      await api.request("POST", "/volumes/create", { body: { Name: `leftover-test-${pid}`, Labels: labels } });
      return Id;
    };
    const deadPid = Bun.spawnSync(["true"]).pid; // exited: no such process any more
    const live = await make(1);
    await make(deadPid);
    expect(await removeLeftovers(api, "leftover-test")).toBe(2);
    expect(await labelled("dev.runner.owner=leftover-test")).toEqual({ containers: 1, networks: 0, volumes: 1 });
    await api.request("DELETE", `/containers/${live}`, { query: { force: true } });
    await api.request("DELETE", "/volumes/leftover-test-1");
  }, 30_000);
});

describeDocker("a docker runner of config.toml, against the fake GitLab", () => {
  test("GIT_STRATEGY fetch keeps the build volume from job to job, unless disable_cache (GitLab Runner's executors/docker createBuildVolume)", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const repo = makeRepository(1);
      const bare = dirname(repo.bare);
      const docker = { image: BUSYBOX, helper_image: DEBIAN, pull_policy: "if-not-present", volumes: [`${bare}:${bare}:ro`], ...(ENGINE_SETTINGS.ulimits ? { ulimit: ENGINE_SETTINGS.ulimits } : {}) };
      const fetching = (script: string[]) => fake.enqueue(script, {
        git_info: { repo_url: `file://${repo.bare}`, ref: "main", sha: repo.shas[0]!, before_sha: "0".repeat(40), ref_type: "branch", refspecs: [], depth: 0 },
        variables: [{ key: "GIT_STRATEGY", value: "fetch", public: true }],
      });
      const kept = runnerConfig(fake, { name: "docker", executor: "docker", docker });
      fetching(["echo from-the-first-job > /builds/marker"]);
      expect((await runNextJob(fake, kept)).status).toBe("success");
      fetching(["cat /builds/marker"]);
      const second = await runNextJob(fake, kept);
      expect(second.status, second.trace.toString()).toBe("success");
      expect(second.trace.toString()).toContain("\nfrom-the-first-job\n");
      fetching(["test ! -e /builds/marker && echo a-fresh-volume"]);
      const fresh = await runNextJob(fake, runnerConfig(fake, { name: "docker", executor: "docker", docker: { ...docker, disable_cache: true } }));
      expect(fresh.status, fresh.trace.toString()).toBe("success");
      expect(fresh.trace.toString()).toContain("\na-fresh-volume\n");
    } finally {
      await fake.stop();
    }
  }, 90_000);

  test("the job's image from the payload, artifacts and cache through the build volume", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const root = mkdtempSync(join(tmpdir(), "runner-docker-art-"));
      const runner = runnerConfig(fake, {
        name: "docker", executor: "docker", cache_dir: join(root, "cache"),
        docker: { image: DEBIAN, helper_image: DEBIAN, pull_policy: "if-not-present", allowed_images: ["local/*"], cache_dir: join(root, "docker-cache"), ...(ENGINE_SETTINGS.ulimits ? { ulimit: ENGINE_SETTINGS.ulimits } : {}) }
      });
      const next = () => runNextJob(fake, runner);
      const cache = [{ key: "deps", paths: ["vendor/"], policy: "pull-push", when: "on_success" }] as never;
      const producerId = fake.enqueue(["mkdir -p out vendor", "echo built > out/app", "echo lib > vendor/lib", "readlink /bin/sh", "echo kept > /cache/note"], {
        image: { name: BUSYBOX },
        artifacts: [{ name: "out", paths: ["out/"], when: "on_success", artifact_type: "archive", artifact_format: "zip" }], cache,
      });
      const producer = await next();
      expect(producer.status, producer.trace.toString()).toBe("success");
      expect(producer.trace.toString()).toContain("\nbusybox\n");
      expect(existsSync(join(root, "cache/acme/widget/deps/cache.zip"))).toBe(true);
      expect(existsSync(join(root, "docker-cache/acme/widget/note"))).toBe(true); // /cache is cache_dir/<project>
      fake.enqueue(["cat out/app", "cat vendor/lib", "git --version", "cat /cache/note"], {
        cache,
        dependencies: [{ id: producerId, name: "build", token: producer.payload.token, artifacts_file: { filename: "out.zip", size: 1 } }],
      });
      const consumer = await next();
      const trace = consumer.trace.toString();
      expect(consumer.status, trace).toBe("success");
      for (const line of ["\nbuilt\n", "\nlib\n", "\ngit version", "\nkept\n"]) expect(trace).toContain(line);
      expect(trace).toContain(`Using Docker executor with image ${DEBIAN} ...`);
      expect(fake.deviations).toEqual([]);
      // GitLab Runner's expandContainerOptions (common/build.go): the image name is expanded with the job's variables.
      fake.enqueue(["readlink /bin/sh"], {
        image: { name: "$JOB_IMAGE_REPO:$JOB_IMAGE_TAG" },
        variables: [{ key: "JOB_IMAGE_REPO", value: BUSYBOX.split(":")[0]!, public: true }, { key: "JOB_IMAGE_TAG", value: "latest", public: true }],
      });
      const expanded = await next();
      expect(expanded.status, expanded.trace.toString()).toBe("success");
      expect(expanded.trace.toString()).toContain(`Using Docker executor with image ${BUSYBOX} ...`);
      expect(expanded.trace.toString()).toContain("\nbusybox\n");
      fake.enqueue(["echo never"], { image: { name: "elsewhere/app:1" } });
      const refused = await next();
      expect(refused.status).toBe("failed");
      expect(refused.trace.toString()).toContain('The "elsewhere/app:1" image is not present on list of allowed images');
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
