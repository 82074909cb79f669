declare const RUNNER_VERSION: string | undefined;
declare const RUNNER_REVISION: string | undefined;

/** The runner's version and git revision, embedded by `bun run build` (`--define`). */
export const VERSION: string = typeof RUNNER_VERSION === "string" ? RUNNER_VERSION : "0.0.0-dev";
export const REVISION: string = typeof RUNNER_REVISION === "string" ? RUNNER_REVISION : "unknown";

/** `CI_RUNNER_EXECUTABLE_ARCH`, as GitLab Runner spells it (`linux/amd64`). */
export function executableArch(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return `${process.platform}/${arch}`;
}
