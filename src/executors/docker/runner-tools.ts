import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pack } from "tar-stream";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { DockerApi } from "./docker-api.ts";

/** Where the tools volume is mounted in the container that serves the job's files. */
export const TOOLS_DIR = "/runner-tools";

/**
 * This runner's own binary and its dynamic loader (with libc and the few libraries it links,
 * listed when the volume is filled), to be copied once into a volume of the engine: mounted read-only
 * in a job's helper container, whatever its image (busybox, alpine, distroless with a shell), it
 * runs `runner helper files` there, through the loader.
 */
export interface RunnerTools {
  readonly binary: string;
  readonly loader: string;
  /** The volume's name: changes with the binary (its size and time). */
  readonly volume: string;
}

/** The command that starts the file service from the tools volume (exit 127 when the volume is not complete). */
export function fileServiceCommand(tools: RunnerTools): string[] {
  return ["sh", "-c", `[ -f ${TOOLS_DIR}/.complete ] || exit 127; exec ${toolsRunner(tools)} helper files`];
}

/** A container's first process from the tools volume, when it is complete: `runner helper serve` (files and stages on the attach stream). */
export function serveCommand(tools: RunnerTools): { readonly complete: string; readonly command: string } {
  return { complete: `${TOOLS_DIR}/.complete`, command: `${toolsRunner(tools)} helper serve` };
}

/** The runner in the tools volume, started through the loader copied beside it. */
function toolsRunner(tools: RunnerTools): string {
  return `${TOOLS_DIR}/${basename(tools.loader)} --library-path ${TOOLS_DIR}/lib ${TOOLS_DIR}/runner`;
}

/**
 * The tools of this process: its own executable when it is the compiled runner, else `dist/runner`
 * of the source tree it runs from (tests and `bun main.ts`; `bun run build` makes it).
 */
export function runnerTools(executable = compiledRunner() ?? resolve(import.meta.dir, "../../../dist/runner")): RunnerTools {
  if (!existsSync(executable)) {
    throw new JobFailure(`docker: ${executable} is missing: the Docker executor copies the runner's binary into the engine (run "bun run build")`, {
      failureReason: "runner_system_failure", system: true,
    });
  }
  const loader = interpreterOf(executable);
  const stat = statSync(executable);
  const volume = `runner-tools-${Bun.hash(`${stat.size}-${stat.mtimeMs}-${process.arch}`).toString(16)}`;
  return { binary: executable, loader, volume };
}

function compiledRunner(): string | undefined {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/") ? process.execPath : undefined;
}

/** The ELF program interpreter (PT_INTERP) of a 64-bit little-endian executable: its dynamic loader. */
export function interpreterOf(executable: string): string {
  const fd = openSync(executable, "r");
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) throw new Error(`${executable} is not a 64-bit little-endian ELF executable`);
    const table = Number(header.readBigUInt64LE(32));
    const size = header.readUInt16LE(54);
    const count = header.readUInt16LE(56);
    const entries = Buffer.alloc(size * count);
    readSync(fd, entries, 0, entries.length, table);
    for (let i = 0; i < count; i++) {
      const at = i * size;
      if (entries.readUInt32LE(at) !== 3) continue;
      const offset = Number(entries.readBigUInt64LE(at + 8));
      const length = Number(entries.readBigUInt64LE(at + 32));
      const path = Buffer.alloc(length);
      readSync(fd, path, 0, length, offset);
      return path.toString().replace(/\0.*$/s, "");
    }
    throw new Error(`${executable} has no program interpreter (a static binary)`);
  } finally {
    closeSync(fd);
  }
}

/** The libraries the loader maps for the binary: asked of the loader only when the volume is filled (once per build). */
function librariesOf(tools: RunnerTools): string[] {
  const listed = Bun.spawnSync([tools.loader, "--list", tools.binary], { stdout: "pipe", stderr: "pipe" });
  const libraries = [...listed.stdout.toString().matchAll(/=> (\/\S+)/g)].map((m) => m[1]!);
  if (listed.exitCode !== 0 || libraries.length === 0) {
    throw new JobFailure(`docker: the libraries of ${tools.binary} could not be listed: ${listed.stderr.toString().trim()}`, {
      failureReason: "runner_system_failure", system: true,
    });
  }
  return libraries;
}

/**
 * Fills the tools volume from this machine through the Engine API: a container (never started)
 * of an image the engine has mounts it, and the tools go in as one streamed tar, `.complete` last.
 * `labels` are the job's, for that container.
 */
export async function populateTools(api: DockerApi, tools: RunnerTools, image: string, labels: Record<string, string>): Promise<void> {
  // Shared by every job of every runner on the engine: no job's or process's labels, so no job's end removes it.
  await api.request("POST", "/volumes/create", { body: { Name: tools.volume, Labels: { "dev.runner.managed": "true", "dev.runner.tools": "true" } } });
  const { Id } = await api.request<{ Id: string }>("POST", "/containers/create", {
    body: { Image: image, Cmd: ["true"], Entrypoint: [""], Labels: labels, HostConfig: { Binds: [`${tools.volume}:${TOOLS_DIR}`] } },
  });
  try {
    const tar = pack();
    const entries: [string, string][] = [
      ["runner", tools.binary], [basename(tools.loader), tools.loader], ...librariesOf(tools).map((l): [string, string] => [`lib/${basename(l)}`, l]),
    ];
    const writing = (async () => {
      for (const [name, source] of entries) {
        const stat = statSync(source);
        await new Promise<void>((done, fail) => {
          const entry = tar.entry({ name, size: stat.size, mode: 0o755, mtime: stat.mtime }, (error) => (error ? fail(error) : done()));
          createReadStream(source).on("error", fail).pipe(entry);
        });
      }
      tar.entry({ name: ".complete", mode: 0o644 }, "");
      tar.finalize();
    })();
    // tar-stream packs with streamx, which pipes into a node stream as a Readable does.
    await Promise.all([api.putArchive(Id, TOOLS_DIR, tar as unknown as Readable), writing]);
  } finally {
    await api.request("DELETE", `/containers/${Id}`, { query: { force: true } }).catch(() => {});
  }
  // Earlier builds' tools: removed unless a running job still mounts them (the engine refuses then).
  const listed = await api.request<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", { query: { filters: { label: ["dev.runner.tools=true"] } } });
  for (const v of listed.Volumes ?? []) if (v.Name !== tools.volume) await api.request("DELETE", `/volumes/${v.Name}`).catch(() => {});
}
