import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "./config-error.ts";
import { isHash } from "./extends.ts";
import type { IncludeMap, ProjectFiles } from "./include-targets.ts";
import { isProjectPath, projectFile } from "./project-paths.ts";

/** Where a project keeps its include map. */
export const INCLUDE_MAP_FILE = ".runner/includes.yml";

/**
 * Reads `.runner/includes.yml`, the local stand-ins for includes a local run cannot fetch:
 *
 * ```yaml
 * projects:                       # include:project and include:component
 *   my-group/ci-templates: ../ci-templates
 * remote:                         # include:remote
 *   https://example.com/ci.yml: vendor/example-ci.yml
 * templates: vendor/gitlab-templates   # include:template (GitLab's lib/gitlab/ci/templates)
 * ```
 *
 * Paths are relative to the project. Returns undefined when there is no such file; a wrong entry
 * is an error naming its key.
 */
export function readIncludeMap(root: string, parse: (file: string, text: string) => { value: unknown }): { map: IncludeMap; text: string } | undefined {
  const file = join(root, INCLUDE_MAP_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  const fail = (key: string, expected: string): never => {
    throw new ConfigError(`${INCLUDE_MAP_FILE}: ${key} should be ${expected}`);
  };
  const parsed = parse(INCLUDE_MAP_FILE, text).value ?? {};
  const value = isHash(parsed) ? parsed : fail("the file", "a mapping of projects, remote and templates");
  const unknown = Object.keys(value).filter((k) => !["projects", "remote", "templates"].includes(k));
  if (unknown.length > 0) throw new ConfigError(`${INCLUDE_MAP_FILE}: unknown keys ${unknown.join(", ")} (projects, remote and templates are known)`);
  const table = (key: string): Record<string, string> => {
    const entries = value[key] ?? {};
    if (!isHash(entries)) return fail(key, "a mapping");
    for (const [name, path] of Object.entries(entries)) if (typeof path !== "string") fail(`${key}: ${name}`, "a path");
    return entries as Record<string, string>;
  };
  const projects = table("projects");
  const remote = table("remote");
  const templates = value.templates;
  if (templates !== undefined && typeof templates !== "string") fail("templates", "a directory");
  const at = (path: string) => (isAbsolute(path) ? path : resolve(root, path));
  const copy = (path: string) => ({ text: existsSync(at(path)) ? readFileSync(at(path), "utf8") : undefined, source: at(path) });
  return {
    text,
    map: {
      project: (name, ref) => {
        const dir = projects[name];
        if (dir === undefined) return undefined;
        return ref === undefined ? directoryFiles(at(dir)) : commitFiles(at(dir), ref, name);
      },
      remote: (url) => (remote[url] === undefined ? undefined : copy(remote[url])),
      template: (name) => (typeof templates === "string" ? copy(join(templates, name)) : undefined),
    },
  };
}

/**
 * The files of a checkout at a commit (`include:project` with `ref:`), read with git; a ref the
 * checkout does not know is GitLab's error. A plan made from them is not cached: the ref may move.
 */
function commitFiles(dir: string, ref: string, project: string): ProjectFiles {
  const git = (...args: string[]) => {
    const result = Bun.spawnSync(["git", "-C", dir, ...args], { stdout: "pipe", stderr: "ignore" });
    return result.exitCode === 0 ? result.stdout.toString() : undefined;
  };
  if (git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`) === undefined) {
    throw new ConfigError(`Project \`${project}\` reference \`${ref}\` does not exist!`);
  }
  return {
    read: (path) => git("show", `${ref}:${path}`),
    glob: (pattern) => (git("ls-tree", "-r", "--name-only", ref) ?? "").split("\n").filter((p) => p && new Bun.Glob(pattern).match(p)),
    source: () => undefined,
  };
}

/** A checkout's files; their sources are absolute paths. */
export function directoryFiles(dir: string): ProjectFiles {
  return {
    read: (path) => {
      const full = projectFile(dir, path);
      return full !== undefined && existsSync(full) ? readFileSync(full, "utf8") : undefined;
    },
    glob: (pattern) => [...new Bun.Glob(pattern).scanSync({ cwd: dir, dot: true })].filter(isProjectPath),
    source: (path) => join(dir, path),
  };
}
