import { JobFailure } from "../../protocol/job-failure.ts";
import { remoteFiles, type RemoteFiles } from "../file-service/file-client.ts";
import type { Duplex } from "node:stream";
import type { DockerApi } from "./docker-api.ts";
import { holdProcess } from "./stream-hold.ts";
import { fileServiceCommand, populateTools, type RunnerTools } from "./runner-tools.ts";

/** How the job's files are served: from the tools volume (same platform), or by the helper image's own runner. */
export type FileServiceSource = { readonly tools: RunnerTools } | { readonly helperRunner: true };

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };

/**
 * Which runner serves the files: this very binary, copied into the engine, when the engine runs
 * the same platform; else the one of this runner's helper image (an engine in a VM of another
 * architecture, Docker Desktop on a Mac).
 */
export async function fileServiceSource(api: DockerApi, tools: () => RunnerTools): Promise<FileServiceSource> {
  // This build's tools volume is there only where an earlier job found the engine's platform ours
  // (asking is a cheap inspect; the engine answers /version in 8-20 ms, assembling its components').
  const ours = process.platform === "linux" ? tools() : undefined;
  if (ours && (await api.request("GET", `/volumes/${ours.volume}`).then(() => true, () => false))) return { tools: ours };
  const engine = await api.platform();
  if (process.platform === "linux" && engine.os === "linux" && engine.arch === GO_ARCH[process.arch]) return { tools: tools() };
  return { helperRunner: true };
}

/**
 * The build volume's files, served by `runner helper files` in a running job container (exec'd
 * once per job): every file the runner moves in or out of the job goes through the Engine API,
 * so the engine may be remote, in a VM, rootless, or reached through the socket alone. When the
 * tools volume is not filled yet, it is filled (once per engine and runner build) and the
 * service started again.
 */
export async function volumeFiles(
  api: DockerApi, container: { readonly id: string; readonly image: string }, source: FileServiceSource,
  labels: Record<string, string>, log: (line: string) => void,
): Promise<RemoteFiles> {
  const start = async () => {
    const command = "tools" in source ? fileServiceCommand(source.tools) : ["runner", "helper", "files"];
    // As root, as GitLab Runner's helper: the build volume's root and other users' files are written too.
    const exec = await api.execStream(container.id, command, "0:0");
    const files = remoteFiles(exec.stdout, exec.stdin, "the file service in the job's helper container", (busy) => holdProcess(exec.stdin as Duplex, busy));
    const ready = await files.realpath("/").then(() => true, () => false);
    return { files, ready, exec };
  };
  let started = await start();
  if (!started.ready && "tools" in source && (await started.exec.exitCode()) === 127) {
    log(`Copying the runner into the engine's volume ${source.tools.volume} (once for this build of the runner)`);
    await populateTools(api, source.tools, container.image, labels);
    started = await start();
  }
  if (!started.ready) {
    const code = await started.exec.exitCode();
    const why = "tools" in source
      ? `${started.exec.stderr().trim() || `exit code ${code}`}`
      : `the engine's platform is not this runner's, and the helper image has no runner of this version to serve the files (${started.exec.stderr().trim() || `exit code ${code}`})`;
    throw new JobFailure(`docker: the job's files cannot be reached: ${why}`, { failureReason: "runner_system_failure", system: true });
  }
  return started.files;
}
