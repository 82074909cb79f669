import type { BuildFiles } from "../build-files.ts";
import { quotePosix } from "../../shell/quote.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import type { DockerApi } from "./docker-api.ts";
import type { ServerGreeting, StageServer } from "./stage-server.ts";

/** `ulimit` settings (`nofile = "1024:2048"`, one number for both) as the Engine API's Ulimits. */
export function ulimits(limits: Readonly<Record<string, string>>): { Name: string; Soft: number; Hard: number }[] {
  return Object.entries(limits).map(([name, value]) => {
    const [soft, hard = soft] = String(value).split(":").map(Number);
    return { Name: name, Soft: soft!, Hard: hard! };
  });
}

/** The `/cache` bind of `[runners.docker]`'s cache: a host directory or a named volume. */
export function cacheBind(cache: { readonly hostDir: string } | { readonly volume: string } | undefined): string[] {
  if (!cache) return [];
  return ["hostDir" in cache ? `${cache.hostDir}:/cache` : `${cache.volume}:/cache`];
}

/** A job container and the runner's end of its stage server. */
export interface RunningContainer {
  readonly id: string;
  readonly server: StageServer;
  /** Who its stages run as (said by its stage server). */
  user?: { readonly uid: number; readonly gid: number };
}

/** What a container's stage server found (it says so first thing): its shell and user. */
export async function greetingOf(api: DockerApi, container: RunningContainer): Promise<ServerGreeting> {
  for (let i = 0; i < 100; i++) {
    const found = await container.server.greeting(i === 0 ? 2000 : 100);
    if (found) return found;
    const { State } = await api.request<{ State: { Running: boolean; ExitCode: number } }>("GET", `/containers/${container.id}/json`);
    if (!State.Running) {
      const said = container.server.lastWords();
      throw new JobFailure(`docker: the container stopped at once (exit code ${State.ExitCode}${said ? `: ${said.split("\n").slice(-3).join(" ")}` : ""}); its image needs sh, and an entrypoint that runs the command it is given`, {
        failureReason: "runner_system_failure", system: true,
      });
    }
  }
  throw new JobFailure("docker: the container did not start the runner's command; does the image's entrypoint run the command it is given?", {
    failureReason: "runner_system_failure", system: true,
  });
}

export async function writeText(files: BuildFiles, path: string, text: string, owner?: { uid: number; gid: number }): Promise<void> {
  // Without a known user (an image with no `id`), others must be able to read it.
  const stream = files.write(path, owner ? 0o600 : 0o644);
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.end(text, () => resolve());
  });
  if (owner) await files.setOwner(path, owner.uid, owner.gid);
}

/** Docker's memory strings (`512m`, `2g`, `1024`) in bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(text.trim());
  if (!match) throw new JobFailure(`[runners.docker] memory: ${quotePosix(text)} is not a size like 512m or 2g`, {
    failureReason: "runner_system_failure", system: true,
  });
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2]!.toLowerCase() as "k"];
  return Math.round(Number(match[1]) * unit);
}
