import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BUILD_ID, REVISION, VERSION } from "../version.ts";
import type { IncludeReader } from "./includes.ts";
import type { PipelineDefinition } from "./definitions.ts";
import { INCLUDE_MAP_FILE, readIncludeMap } from "./include-map.ts";
import { isProjectPath, projectFile } from "./project-paths.ts";
import type { RuleContext } from "./rules.ts";

const KEEP = 20;

/**
 * Reads a pipeline file into its definition, through a cache of earlier results keyed by the
 * file's name and bytes and the runner's build. A hit costs one small JSON read: the YAML parser is
 * not even loaded. A file that does not parse is never cached.
 */
export async function loadPipeline(options: {
  text: string;
  displayName: string;
  /** The project's root, where `include:local` paths start. */
  root: string;
  /** Where cached definitions live, e.g. `.runner/cache/pipelines`; none disables the cache. */
  cacheDir?: string;
  /** `--input name=value`: the pipeline's inputs (`spec:inputs`). */
  inputs?: Readonly<Record<string, string>>;
  /** What `include:rules` see; a file with such rules is planned afresh each run. */
  includeContext?: RuleContext;
}): Promise<PipelineDefinition> {
  const { text, displayName, cacheDir } = options;
  const inputs = options.inputs ?? {};
  const key = Bun.hash(`${VERSION}\0${REVISION}\0${BUILD_ID}\0${displayName}\0${JSON.stringify(inputs)}\0${text}`).toString(16);
  const path = cacheDir ? join(cacheDir, `${key}.json`) : undefined;
  if (path) {
    const cached = (await Bun.file(path).json().catch(() => undefined)) as PipelineDefinition | undefined;
    // Included files are part of the plan: a changed one means parsing again.
    // Included files are part of the plan (a changed one means parsing again), and so is what each
    // include wildcard matched (a file added or removed means parsing again).
    if (
      cached && (cached.sources ?? []).every((s) => Bun.hash(readOrEmpty(resolve(options.root, s.path))).toString(16) === s.hash) &&
      (cached.globs ?? []).every((g) => JSON.stringify(scan(options.root, g.pattern)) === JSON.stringify(g.matches))
    ) {
      return cached;
    }
  }
  const [{ parseYamlFile }, { readPipeline }] = await Promise.all([
    import("./yaml-file.ts"),
    import("./definitions.ts"),
  ]);
  const reader = projectIncludes(options.root, parseYamlFile, options.includeContext);
  const read = readPipeline(parseYamlFile(displayName, text), { includes: reader, inputs });
  const pipeline = reader.globs.length > 0 ? { ...read, globs: reader.globs } : read;
  // include:rules depend on the run: such plans are not cached.
  if (cacheDir && path && !reader.uncacheable) await store(cacheDir, path, pipeline).catch(() => {});
  return pipeline;
}

/**
 * Includes read from the project's files (`include:local`); `globs` records each wildcard and what
 * it matched, `uncacheable` whether the plan depends on more than files.
 */
export function projectIncludes(
  root: string,
  parse: IncludeReader["parse"],
  context?: RuleContext,
): IncludeReader & { globs: { pattern: string; matches: string[] }[]; uncacheable: boolean } {
  const included = readIncludeMap(root, parse);
  const reader = {
    globs: [] as { pattern: string; matches: string[] }[],
    uncacheable: false,
    ...(context ? { context } : {}),
    ...(included ? { map: included.map } : {}),
    read: (file: string) => {
      const full = projectFile(root, file);
      return full !== undefined && existsSync(full) ? readFileSync(full, "utf8") : undefined;
    },
    glob: (pattern: string) => {
      const matches = scan(root, pattern).filter((match) => isProjectPath(match) && insideOrMissing(root, match));
      reader.globs.push({ pattern, matches });
      return matches;
    },
    parse,
    // The include map is part of what the plan was made from.
    sources: included ? [{ path: INCLUDE_MAP_FILE, hash: Bun.hash(included.text).toString(16) }] : ([] as { path: string; hash: string }[]),
  };
  return reader;
}

/** A glob match that leads out of the project (a symbolic link) is not one of its files. */
function insideOrMissing(root: string, path: string): boolean {
  try {
    projectFile(root, path);
    return true;
  } catch {
    return false;
  }
}

function scan(root: string, pattern: string): string[] {
  return [...new Bun.Glob(pattern).scanSync({ cwd: root, dot: true })].sort();
}

function readOrEmpty(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

async function store(dir: string, path: string, pipeline: PipelineDefinition): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await Bun.write(temporary, JSON.stringify(pipeline));
  await rename(temporary, path);
  await prune(dir);
}

/** Keeps the most recently written entries only. */
async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  if (names.length <= KEEP) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })));
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(KEEP).map(({ n }) => rm(join(dir, n), { force: true })));
}
