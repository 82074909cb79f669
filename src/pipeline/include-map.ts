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
        const dir = mapped(projects, name);
        if (dir === undefined) return undefined;
        return ref === undefined ? directoryFiles(at(dir)) : commitFiles(at(dir), ref, name);
      },
      component: (name, version) => {
        const dir = mapped(projects, name);
        if (dir === undefined) return undefined;
        return commitFiles(at(dir), componentRef(at(dir), name, version), name);
      },
      remote: (url) => (remote[url] === undefined ? undefined : copy(remote[url])),
      template: (name) => (typeof templates === "string" ? copy(join(templates, name)) : undefined),
    },
  };
}

/** A project's entry of the map, its path matched case-insensitively (GitLab's project paths are). */
function mapped(projects: Readonly<Record<string, string>>, name: string): string | undefined {
  if (projects[name] !== undefined) return projects[name];
  const key = Object.keys(projects).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : projects[key];
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)$/;

/**
 * The ref a component version names in a checkout (GitLab's component versions): `~latest` the
 * highest released semantic version, `1` or `1.2` the highest release with that prefix, anything
 * else (a tag, a full version, a SHA, a branch) itself.
 */
function componentRef(dir: string, project: string, version: string): string {
  const partial = /^(\d+)(?:\.(\d+))?$/.exec(version);
  if (version !== "~latest" && !partial) return version;
  const listed = Bun.spawnSync(["git", "-C", dir, "tag", "--list"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  const releases = listed.split("\n").map((tag) => ({ tag, v: SEMVER.exec(tag.trim()) })).filter((r) => r.v)
    .map((r) => ({ tag: r.tag.trim(), n: r.v!.slice(1, 4).map(Number) as [number, number, number] }))
    .filter((r) => !partial || (r.n[0] === Number(partial[1]) && (partial[2] === undefined || r.n[1] === Number(partial[2]))))
    .sort((a, b) => b.n[0] - a.n[0] || b.n[1] - a.n[1] || b.n[2] - a.n[2]);
  if (releases.length === 0) {
    throw new ConfigError(`Component project \`${project}\` has no release matching \`${version}\` (its tags are its versions)`);
  }
  return releases[0]!.tag;
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
