import { DockerApi } from "../executors/docker/docker-api.ts";
import { createDockerExecutor, type DockerExecutorOptions } from "../executors/docker/docker-executor.ts";
import { helperImage, jobImage } from "../executors/docker/docker-options.ts";
import { removeLeftovers } from "../executors/docker/labels.ts";
import { serviceImages } from "../executors/docker/services.ts";
import { registryAuth } from "../executors/docker/registry-auth.ts";
import type { Executor } from "../executors/executor.ts";
import type { JobDefinition } from "../pipeline/definitions.ts";
import type { JobResponse } from "../protocol/types.ts";
import { expandContainerNames } from "../job/container-names.ts";
import type { ExecOptions } from "./exec-options.ts";
import type { DockerEngineProbe } from "./executor-choice.ts";

/**
 * Whether a Docker engine answers `GET /_ping` at DOCKER_HOST (else the local socket) within
 * `timeoutMs`: what decides, by default, that jobs with an image run in it.
 */
export async function probeDockerEngine(env: Record<string, string | undefined>, timeoutMs = 2_000): Promise<DockerEngineProbe> {
  const where = env.DOCKER_HOST || "unix:///var/run/docker.sock";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([new DockerApi({ host: where }).request("GET", "/_ping"), late]);
    return { where, answers: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { where, answers: false, failure: e.code ?? e.message ?? String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Removes what crashed earlier local runs left behind (their process is gone). */
export async function removeExecLeftovers(): Promise<void> {
  await removeLeftovers(new DockerApi(), "exec").catch(() => 0);
}

export /**
 * A local job's Docker executor: the job's image (or `--docker-image`), pulled only when missing
 * unless told otherwise, and a build volume per project and job that outlives the run, so that an
 * unchanged working tree is not copied again.
 */
function localDockerExecutor(job: JobDefinition, payload: JobResponse, relative: string, cwd: string, docker: NonNullable<ExecOptions["docker"]>, keep: boolean, env: Record<string, string>,
  shellOnFailure?: DockerExecutorOptions["shellOnFailure"],
): Executor {
  const config = { ...(docker.image ? { image: docker.image } : {}), ...(docker.helperImage ? { helper_image: docker.helperImage } : {}) };
  // Names and aliases expanded against the job's variables, as GitLab Runner expands them.
  const expanded = expandContainerNames(payload);
  const image = jobImage(config, expanded.image ?? undefined, [docker.pullPolicy]);
  const project = Bun.hash(cwd).toString(16);
  const slug = job.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "job";
  return createDockerExecutor({
    api: new DockerApi(), image, helperImage: helperImage(config, [docker.pullPolicy]), helperFallback: !docker.helperImage,
    settings: {}, owner: { runner: "exec", job: `exec-${process.pid}-${slug}-${Bun.hash(job.name).toString(16).slice(0, 6)}` },
    projectPath: relative, keepOnFailure: keep, ...(shellOnFailure ? { shellOnFailure } : {}),
    registryAuth: (name) => registryAuth(name, env.DOCKER_AUTH_CONFIG ? { dockerAuthConfig: env.DOCKER_AUTH_CONFIG } : {}),
    services: serviceImages(expanded.services, image.pullPolicies),
    jobVariables: job.variables.map((v) => `${v.key}=${v.value}`), keptVolume: `runner-exec-${project}-${slug}-${Bun.hash(job.name).toString(16).slice(0, 6)}`,
  });
}

/**
 * `--shell-on-failure`: at a failed script stage, an interactive shell (a TTY exec) in the build
 * container, in the job's directory with the job's variables; the job goes on when it exits. One
 * shell at a time, however many jobs fail at once.
 */
export function interactiveShell(io: {
  stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; print: (text: string) => void;
}): NonNullable<DockerExecutorOptions["shellOnFailure"]> {
  const api = new DockerApi();
  let queue = Promise.resolve();
  return (at) => {
    const turn = queue.then(async () => {
      io.print(`\nThe job failed: opening ${at.shell} in its build container at ${at.workingDir}, with the job's variables; exit the shell to go on.\n`);
      const { id, stream } = await api.execTty(at.container, { cmd: [at.shell], env: at.environment, workingDir: at.workingDir });
      const resize = () => void api.request("POST", `/exec/${id}/resize`, { query: { h: io.stdout.rows ?? 24, w: io.stdout.columns ?? 80 } }).catch(() => {});
      const raw = io.stdin.isTTY === true;
      if (raw) io.stdin.setRawMode(true);
      io.stdin.resume();
      io.stdin.pipe(stream);
      stream.pipe(io.stdout, { end: false });
      resize();
      io.stdout.on("resize", resize);
      await new Promise<void>((resolve) => {
        stream.once("end", resolve);
        stream.once("close", resolve);
        stream.once("error", () => resolve());
      });
      io.stdin.unpipe(stream);
      if (raw) io.stdin.setRawMode(false);
      io.stdin.pause();
      io.stdout.off("resize", resize);
    });
    queue = turn.catch(() => {});
    return turn;
  };
}
