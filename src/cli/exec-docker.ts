import { DockerApi } from "../executors/docker/docker-api.ts";
import { dockerEndpoint } from "../executors/docker/docker-endpoint.ts";
import { removeLeftovers } from "../executors/docker/labels.ts";
import type { ShellPlace } from "./debug-executors.ts";
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
    await Promise.race([new DockerApi({ ...dockerEndpoint({}, env), host: where }).request("GET", "/_ping"), late]);
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

/**
 * `--shell-on-failure`: at a failed script stage, an interactive shell (a TTY exec) in the build
 * container, in the job's directory with the job's variables; the job goes on when it exits. One
 * shell at a time, however many jobs fail at once.
 */
export function interactiveShell(io: {
  stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; print: (text: string) => void;
}): (at: ShellPlace) => Promise<void> {
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
