declare const RUNNER_VERSION: string | undefined;
declare const RUNNER_REVISION: string | undefined;
declare const RUNNER_BUILD_ID: string | undefined;

/** The runner's version and git revision, embedded by `bun run build` (`--define`). */
export const VERSION: string = typeof RUNNER_VERSION === "string" ? RUNNER_VERSION : "0.0.0-dev";
export const REVISION: string = typeof RUNNER_REVISION === "string" ? RUNNER_REVISION : "unknown";

/**
 * What this build is made of (a hash of its sources, embedded by `bun run build`): caches of the
 * runner's own making (the plan cache) are keyed on it, since a commit's revision does not change
 * with uncommitted edits. Run from source, it is new each process, so nothing stale is reused.
 */
export const BUILD_ID: string = typeof RUNNER_BUILD_ID === "string" ? RUNNER_BUILD_ID : `source-${process.pid}-${Date.now()}`;

/** `CI_RUNNER_EXECUTABLE_ARCH`, as GitLab Runner spells it (`linux/amd64`). */
export function executableArch(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return `${process.platform}/${arch}`;
}
