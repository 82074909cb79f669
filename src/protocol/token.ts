/**
 * The short form of a runner token shown in logs and `CI_RUNNER_SHORT_TOKEN`: without the `glrt-`,
 * `glrtr-`, `glcbt-` or partition (`t1_`…) prefixes and a legacy `GR` + 7 hex, then 9 characters
 * (docs/protocol.md §2.2).
 */
export function shortToken(token: string): string {
  let rest = token;
  for (const prefix of ["glrt-", "glrtr-", "glcbt-"]) if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  rest = rest.replace(/^t[123]_/, "").replace(/^GR[0-9a-fA-F]{7}/, "");
  return rest.slice(0, 9);
}

/** The project's path on the server (`acme/widget`) from the job's `repo_url`; `project-<id>` without one. */
export function projectPath(repoUrl: string, projectId: number): string {
  try {
    const path = new URL(repoUrl).pathname.replace(/^\/+/, "").replace(/\.git$/, "").replace(/\/+$/, "");
    if (path !== "") return path;
  } catch {
    // Not a URL: fall through.
  }
  return `project-${projectId}`;
}
