import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { dockerAvailable, startDocker } from "./docker.ts";
import { sshdAvailable, startSshd, type TestSshd } from "./sshd.ts";

export const BINARY = resolve(import.meta.dir, "../../dist/runner");

/**
 * For suites that run `dist/runner` on every executor: builds the binary if it is missing, starts the
 * Docker engine and an sshd where they can run, and stops the sshd at the end.
 */
export function useRealParts(): { readonly docker: boolean; readonly ssh: boolean; sshd(): TestSshd } {
  const docker = dockerAvailable();
  const ssh = sshdAvailable();
  let server: TestSshd | undefined;
  beforeAll(async () => {
    if (!existsSync(BINARY)) Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: resolve(import.meta.dir, "../..") });
    if (docker) await startDocker();
    if (ssh) server = await startSshd();
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
  });
  return { docker, ssh, sshd: () => server! };
}
