import { ConfigError } from "./config-error.ts";
import { expandKnown } from "./expand-known.ts";
import { isHash } from "./extends.ts";

/** The files of one project, as includes see them: paths from the project's root. */
export interface ProjectFiles {
  read(path: string): string | undefined;
  glob(pattern: string): string[];
  /** How a path of this project is recorded among a plan's sources (relative for the project itself); undefined when it cannot be checked again cheaply. */
  source(path: string): string | undefined;
}

/**
 * Where includes that are not this project's files are found offline (`.runner/includes.yml`):
 * other projects' checkouts (include:project, include:component), local copies of remote files, a
 * directory of GitLab's templates.
 */
export interface IncludeMap {
  /**
   * A mapped project's files (its path matched case-insensitively, as GitLab's are): its working
   * tree, or the commit `ref` names when one is given.
   */
  project(name: string, ref?: string): ProjectFiles | undefined;
  /** A mapped project's files at a component version: a tag, a SHA, `~latest`, or a partial semver (`1`, `1.2`). */
  component?(name: string, version: string): ProjectFiles | undefined;
  remote(url: string): { text: string | undefined; source: string } | undefined;
  template(name: string): { text: string | undefined; source: string } | undefined;
}

/** One file an include entry stands for. */
export interface IncludeTarget {
  /** The name GitLab's messages use for it. */
  readonly location: string;
  readonly text: string | undefined;
  /** Its path among the plan's sources; undefined when the plan cannot be cached. */
  readonly source: string | undefined;
  /** The message when it does not exist. */
  readonly missing: string;
  /** Where its own `local` includes are read: the project it belongs to. */
  readonly files: ProjectFiles;
  /** Whether it must end in .yml/.yaml (local and project files). */
  readonly checkExtension: boolean;
}

/** What resolving an entry needs: the files of the including project, the map, the include-safe variables. */
export interface TargetContext {
  readonly files: ProjectFiles;
  readonly map?: IncludeMap;
  readonly variables: Readonly<Record<string, string>>;
}

/**
 * The files one `include:` entry stands for (docs/pipeline.md §7.4): `local` (globs in GitLab's
 * sense) in the including project; `project`, `component`, `remote` and `template` through the
 * include map, or the current project for a component of it; otherwise a clear refusal. Include
 * values see the include-safe variables (`$CI_PROJECT_PATH`, `$CI_SERVER_FQDN`, …).
 */
export function includeTargets(item: unknown, ctx: TargetContext): IncludeTarget[] {
  const expand = (text: string) => expandKnown(text, (name) => ctx.variables[name]);
  if (typeof item === "string") {
    return /^https?:\/\//.test(item) ? [remoteTarget(expand(item), ctx)] : localTargets(expand(item), ctx.files);
  }
  if (!isHash(item)) throw new ConfigError(`Included file \`${JSON.stringify(item)}\` needs to be a string`);
  if (typeof item.local === "string") return localTargets(expand(item.local), ctx.files);
  if (typeof item.remote === "string") return [remoteTarget(expand(item.remote), ctx)];
  if (typeof item.project === "string") {
    const ref = typeof item.ref === "string" ? expand(item.ref) : undefined;
    return projectTargets(expand(item.project), ref, item.file, ctx, expand);
  }
  if (typeof item.template === "string") return [templateTarget(item.template, ctx)];
  if (typeof item.component === "string") return [componentTarget(expand(item.component), ctx)];
  throw new ConfigError(`Included file \`${JSON.stringify(item)}\` needs to be a string`);
}

function localTargets(location: string, files: ProjectFiles): IncludeTarget[] {
  const path = location.replace(/^\/+/, "");
  const paths = path.includes("*")
    ? files.glob(path.replace(/\*\*(?!\/)/g, "**/*")).filter((candidate) => includeGlob(path).test(candidate)).sort()
    : [path];
  return paths.map((p) => ({
    location: p, text: files.read(p), source: files.source(p), missing: `Local file \`${p}\` does not exist!`, files, checkExtension: true,
  }));
}

function projectTargets(
  project: string,
  ref: string | undefined,
  file: unknown,
  ctx: TargetContext,
  expand: (text: string) => string,
): IncludeTarget[] {
  const files = ctx.map?.project(project, ref);
  if (!files) refuse("project", project, "map it to a local checkout under `projects:` in .runner/includes.yml");
  const list = Array.isArray(file) ? file : [file];
  if (!list.every((f) => typeof f === "string")) throw new ConfigError(`Included file \`${project}\` needs to be a string`);
  return (list as string[]).map((f) => {
    const path = expand(f).replace(/^\/+/, "");
    return {
      location: path, text: files.read(path), source: files.source(path),
      missing: `Project \`${project}\` file \`${path}\` does not exist!`, files, checkExtension: true,
    };
  });
}

function remoteTarget(url: string, ctx: TargetContext): IncludeTarget {
  const copy = ctx.map?.remote(url);
  if (!copy) refuse("remote", url, "map the URL to a local copy under `remote:` in .runner/includes.yml, or copy the file into the project and include it with include:local");
  return { location: url, text: copy.text, source: copy.source, missing: `Remote file \`${url}\` could not be fetched because of a local copy that does not exist: ${copy.source}`, files: ctx.files, checkExtension: false };
}

function templateTarget(name: string, ctx: TargetContext): IncludeTarget {
  const copy = ctx.map?.template(name);
  if (!copy) refuse("template", name, "give a directory of GitLab's templates as `templates:` in .runner/includes.yml");
  return { location: name, text: copy.text, source: copy.source, missing: `Included file \`${name}\` is empty or does not exist!`, files: ctx.files, checkExtension: false };
}

/**
 * `host/group/project/name@version`: `templates/<name>.yml` or `templates/<name>/template.yml` of that
 * project — this one when host and path are its own (`$CI_SERVER_FQDN/$CI_PROJECT_PATH/name@…`),
 * else a mapped checkout at that version (`~latest`, a partial semver, a tag or a SHA, read from the
 * checkout's history); this project's own components come from its working tree.
 */
function componentTarget(address: string, ctx: TargetContext): IncludeTarget {
  const match = /^([^/]+)\/(.+)\/([^/@]+)@(.+)$/.exec(address);
  if (!match) throw new ConfigError(`Component '${address}' - the component path must be host/project/name@version`);
  const [, host, project, name, version] = match as unknown as [string, string, string, string, string];
  const own = host === ctx.variables.CI_SERVER_FQDN && project.toLowerCase() === ctx.variables.CI_PROJECT_PATH?.toLowerCase();
  const files = own ? ctx.files : ctx.map?.component ? ctx.map.component(project, version) : ctx.map?.project(project);
  if (!files) refuse("component", address, "map its project to a local checkout under `projects:` in .runner/includes.yml");
  let found: { path: string; text: string | undefined } = { path: `templates/${name}.yml`, text: undefined };
  for (const path of [`templates/${name}.yml`, `templates/${name}/template.yml`]) {
    const text = files.read(path);
    if (text !== undefined) {
      found = { path, text };
      break;
    }
  }
  return {
    location: address, text: found.text, source: files.source(found.path),
    missing: `Component '${address}' - content not found`, files, checkExtension: false,
  };
}

function refuse(kind: string, location: string, howTo: string): never {
  throw new ConfigError(`include:${kind} \`${location}\` is not available offline: a local run reads only local files; ${howTo}`);
}

/**
 * An `include:local` wildcard as GitLab reads it (docs/pipeline.md §7.4): `*` stays within a directory, a `**`
 * followed by a slash stands for one or more subdirectories ("configs/**" + "/*.yml" is subfolders
 * only), a `**` elsewhere crosses directories (`configs/**.yml` is every level).
 */
function includeGlob(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith("**/", i)) { source += "(?:[^/]+/)+"; i += 2; }
    else if (pattern.startsWith("**", i)) { source += ".*"; i += 1; }
    else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
