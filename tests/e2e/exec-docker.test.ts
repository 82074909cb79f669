import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DockerApi } from "../../src/executors/docker/docker-api.ts";
import { FakeGitLab } from "../fake-gitlab/fake-gitlab.ts";
import { git, makeRepository } from "../helpers/git-fixture.ts";
import { BUSYBOX, DEBIAN, dockerAvailable, labelled, startDocker } from "../helpers/docker.ts";

const BINARY = resolve(import.meta.dir, "../../dist/runner");
const available = dockerAvailable();
const api = new DockerApi();
const projects: string[] = [];
beforeAll(async () => {
  if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
  if (available) await startDocker();
}, 300_000);
afterAll(async () => {
  if (!available) return;
  // The kept build volumes of this test's project.
  const volumes = await api.request<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", { query: { filters: { label: ["dev.runner.owner=exec"] } } });
  // The build volumes kept for GIT_STRATEGY fetch end with the hash of the repository (docker-names.ts).
  const suffixes = projects.map((p) => `-${Bun.hash(p).toString(16)}`);
  for (const v of volumes.Volumes ?? []) if (suffixes.some((s) => v.Name.endsWith(s))) await api.request("DELETE", `/volumes/${v.Name}`).catch(() => {});
});

(available ? describe : describe.skip)("dist/runner exec --executor docker", () => {
  test("each job in its image, artifacts passed on, the working tree copied once, no container left", async () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), `
build:
  stage: build
  image: ${BUSYBOX}
  script:
    - cat wip.txt
    - echo "built in $CI_PROJECT_DIR" > out.txt
  artifacts: { paths: [out.txt] }
check:
  stage: test
  image: ${DEBIAN}
  script:
    - cat out.txt
    - git --version
service:
  stage: test
  image: ${BUSYBOX}
  services:
    - name: ${BUSYBOX}
      alias: web
      command:
        - sh
        - -c
        - mkdir /www && echo "pong $GREETING" > /www/index.html && httpd -f -p 8080 -h /www
      variables: { GREETING: from-the-service-variables }
  script:
    - for i in $(seq 50); do wget -qO- http://web:8080/ && break; sleep 0.2; done
`);
    git(repo.work, "add", ".gitlab-ci.yml");
    git(repo.work, "commit", "-q", "-m", "ci");
    writeFileSync(join(repo.work, "wip.txt"), "uncommitted work\n");
    const run = async () => {
      const child = Bun.spawn([BINARY, "exec", "--executor", "docker", "--no-color"], {
        cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" }, stdout: "pipe", stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      return { out, err, code, pid: child.pid };
    };
    const first = await run();
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toContain('Preparing the "docker" executor');
    expect(first.out).toContain("uncommitted work\n");
    expect(first.out).toMatch(/check +\| built in \/builds\/\S+\n/);
    expect(first.out).toMatch(/check +\| git version \d/);
    expect(first.out).toMatch(/build +\| 3 files, 3 copied, 0 removed/);
    expect(first.out).toMatch(/service +\| pong from-the-service-variables\n/);
    expect(await labelled(`dev.runner.pid=${first.pid}`)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/build +\| 3 files, 0 copied, \d+ removed/);
  }, 120_000);

  test("image: docker user, platform and pull_policy reach the engine on the local road as on GitLab's (docs.gitlab.com/ee/ci/yaml/#imagedocker)", async () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), `
as-user:
  image: { name: ${BUSYBOX}, docker: { user: "1234" }, pull_policy: if-not-present }
  script: [echo "uid=$(id -u)"]
never-pulled:
  image: { name: "runner-test/not-here:1", pull_policy: never }
  script: [echo unreachable]
other-platform:
  image: { name: ${BUSYBOX}, docker: { platform: linux/s390x } }
  script: [echo unreachable]
`);
    const run = Bun.spawnSync([BINARY, "exec", "--executor", "docker", "--no-color"], {
      cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" },
    });
    const out = run.stdout.toString();
    expect(run.exitCode, out + run.stderr.toString()).toBe(1);
    expect(out).toMatch(/as-user +\| uid=1234\n/);
    // GitLab Runner's pull manager: "never" means the image must be there already (executors/docker/internal/pull).
    expect(out).toMatch(/never-pulled +\| .*runner-test\/not-here:1.*\[never\]/);
    expect(out).toMatch(/other-platform +\| .*s390x/);
    expect(out).not.toContain("unreachable");
    expect(out).not.toContain("Permission denied");
    // The helper that started beside the build container that could not is gone with it.
    expect(await labelled(`dev.runner.pid=${run.pid}`)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  }, 60_000);

  test("volumes as GitLab Runner keeps them: one build volume per project and concurrency slot, reused run after run; runner prune leaves none", async () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), ["a", "b", "c"].map((name, i) => `${name}:\n  stage: ${["build", "test", "deploy"][i]}\n  image: ${BUSYBOX}\n  script: [ls]\n`).join(""));
    const volumesOfProject = async () => {
      const listed = await api.request<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", { query: { filters: { label: ["dev.runner.owner=exec"] } } });
      return (listed.Volumes ?? []).map((v) => v.Name).filter((name) => name.endsWith(`-${Bun.hash(repo.work).toString(16)}`)).sort();
    };
    for (let run = 0; run < 3; run++) {
      const r = Bun.spawnSync([BINARY, "exec", "--executor", "docker", "--no-color", "-j", "2"], { cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });
      expect(r.exitCode, r.stdout.toString() + r.stderr.toString()).toBe(0);
    }
    // Three stages one after another: each job takes the first free slot, so the one volume of slot 0 serves them all.
    expect(await volumesOfProject()).toEqual([expect.stringMatching(/^runner-exec-project-\d+-concurrent-0-/)]);
    const pruned = Bun.spawnSync([BINARY, "prune"], { cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" } });
    expect(pruned.exitCode, pruned.stdout.toString() + pruned.stderr.toString()).toBe(0);
    expect(pruned.stdout.toString()).toContain("removed volume runner-exec-project-");
    expect(await volumesOfProject()).toEqual([]);
    expect(existsSync(join(repo.work, ".runner", "builds"))).toBe(false);
  }, 120_000);

  test("--keep leaves a failed job's container to enter; the next run removes it", async () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), `broken:\n  image: ${BUSYBOX}\n  script:\n    - echo state > left.txt\n    - exit 3\n`);
    const exec = (...args: string[]) => Bun.spawnSync([BINARY, "exec", "--executor", "docker", "--no-color", ...args], {
      cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" },
    });
    const kept = exec("--keep");
    expect(kept.exitCode, kept.stdout.toString() + kept.stderr.toString()).toBe(1);
    const out = kept.stdout.toString();
    const command = /docker exec -it -w (\S+) (\S+) (sh|bash)\n/.exec(out);
    expect(command, out).not.toBeNull();
    const [, dir, name] = command!;
    const lines: string[] = [];
    const code = await api.exec(name!, { cmd: ["sh", "-c", `cat ${dir}/left.txt`], stdout: (c) => lines.push(c.toString()), stderr: () => {} });
    expect(code).toBe(0);
    expect(lines.join("")).toBe("state\n");
    // The build container, and the helper's when the helper image is there.
    expect((await labelled(`dev.runner.pid=${kept.pid}`)).containers).toBeGreaterThanOrEqual(1);
    exec();
    expect((await labelled(`dev.runner.pid=${kept.pid}`)).containers).toBe(0);
  }, 60_000);

  test("--shell-on-failure opens a shell in the failed job's container, its directory and variables, then goes on", async () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), `variables: { SECRET_PLACE: attic }\nbroken:\n  image: ${BUSYBOX}\n  script:\n    - echo state > left.txt\n    - exit 3\n  after_script:\n    - echo after ran\n`);
    // script(1) gives the run a terminal; what the user types comes on its stdin.
    const typed = 'echo "inside=$CI_JOB_NAME:$(pwd):$(cat left.txt):$SECRET_PLACE"\nexit\n';
    const child = Bun.spawn(["script", "-qfec", `${BINARY} exec --executor docker --no-color --shell-on-failure`, "/dev/null"], {
      cwd: repo.work, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root", TERM: "dumb" }, stdin: "pipe", stdout: "pipe", stderr: "pipe",
    });
    let out = "";
    const reader = (async () => {
      for await (const chunk of child.stdout) out += new TextDecoder().decode(chunk);
    })();
    for (let i = 0; i < 300 && !out.includes("exit the shell to go on"); i++) await Bun.sleep(50);
    await Bun.sleep(300);
    child.stdin.write(typed);
    await child.stdin.flush();
    const code = await child.exited;
    await reader;
    expect(out).toContain("exit the shell to go on");
    expect(out).toMatch(/inside=broken:\/builds\/\S+:state:attic/);
    expect(out).toContain("after ran");
    expect(code).toBe(1);
  }, 60_000);
});

(available ? describe : describe.skip)("dist/runner exec without --executor: a job with an image runs in it", () => {
  const pipeline = `variables: { IMAGE_REPO: ${BUSYBOX.split(":")[0]} }
default:
  image: \$IMAGE_REPO:latest
in-default-image:
  script: readlink /bin/sh
in-own-image:
  image: ${DEBIAN}
  script: git --version
on-the-shell:
  inherit: { default: false }
  script: echo "shell=$(readlink /bin/sh || echo none)"
`;
  const exec = (dir: string, args: string[] = [], env: Record<string, string> = {}) => {
    const r = Bun.spawnSync([BINARY, "exec", "--no-color", ...args], { cwd: dir, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root", ...env } });
    return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
  };

  test("Docker when the engine answers, the shell for the others, said in one line (image names expanded as GitLab Runner's expandContainerOptions does)", () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), pipeline);
    const { code, out, err } = exec(repo.work);
    expect(code, out + err).toBe(0);
    expect(out.split("\n")[0]).toBe(
      "Executors: docker for in-default-image, in-own-image (an image, and the Docker engine at unix:///var/run/docker.sock answers); shell for on-the-shell (no image)",
    );
    expect(out).toContain(`in-default-image | Using Docker executor with image ${BUSYBOX} ...`);
    expect(out).toMatch(/in-default-image +\| busybox\n/);
    expect(out).toMatch(/in-own-image +\| git version \d/);
    expect(out).toMatch(/on-the-shell +\| Using Shell \(bash\) executor/);
  }, 60_000);

  test("no engine at DOCKER_HOST: every job on the shell and the line says why; --executor forces one for all", () => {
    const repo = makeRepository(1);
    projects.push(repo.work);
    writeFileSync(join(repo.work, ".gitlab-ci.yml"), pipeline.replace("readlink /bin/sh", "echo on-a-shell").replace("git --version", "echo also-on-a-shell"));
    const dead = exec(repo.work, [], { DOCKER_HOST: `unix://${repo.work}/no-engine.sock` });
    expect(dead.code, dead.out + dead.err).toBe(0);
    expect(dead.out.split("\n")[0]).toBe(
      `Executors: shell for in-default-image, in-own-image (an image, but no Docker engine answers at unix://${repo.work}/no-engine.sock: connect ENOENT ${repo.work}/no-engine.sock; --executor docker insists); shell for on-the-shell (no image)`,
    );
    expect(dead.out).not.toContain("is ignored by the shell executor");
    const forced = exec(repo.work, ["--executor", "shell"]);
    expect(forced.code).toBe(0);
    expect(forced.out.split("\n")[0]).toBe("Executors: shell for in-default-image, in-own-image, on-the-shell (--executor shell)");
    expect(forced.out).toContain(`in-own-image     | WARNING: image "${DEBIAN}" is ignored by the shell executor`);
    expect(forced.out).not.toContain("Using Docker executor");
  }, 60_000);
});

(available ? describe : describe.skip)("dist/runner run-single --executor docker", () => {
  test("takes a job from GitLab and runs it in the configured image", async () => {
    const fake = await new FakeGitLab().start();
    try {
      const id = fake.enqueue(["readlink /bin/sh", "echo \"in $CI_PROJECT_DIR\""]);
      const child = Bun.spawn([
        BINARY, "run-single", "--url", fake.url, "--token", fake.runnerToken, "--executor", "docker",
        "--docker-image", BUSYBOX, "--docker-helper-image", DEBIAN, "--docker-pull-policy", "never", "--max-builds", "1",
      ], { env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/root" }, stdout: "pipe", stderr: "pipe" });
      const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect(code, err).toBe(0);
      const job = fake.jobs.get(id)!;
      const trace = job.trace.toString();
      expect(job.status, trace).toBe("success");
      expect(trace).toContain(`Using Docker executor with image ${BUSYBOX} ...`);
      expect(trace).toMatch(/ 01O busybox\n/);
      expect(trace).toMatch(/ 01O in \/builds\/acme\/widget\n/);
      expect(fake.deviations).toEqual([]);
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
