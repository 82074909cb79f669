import { ConfigError, type SourcePosition } from "./config-error.ts";
import type { JobDefinition } from "./job-definition.ts";
import { isHash } from "./extends.ts";
import { rubyString } from "./ruby-scalars.ts";

const MAX_INSTANCES = 200;

/** `parallel:` as written: a count, or matrix entries of variable → values. */
export type Parallel =
  | { readonly kind: "count"; readonly count: number }
  | { readonly kind: "matrix"; readonly entries: readonly (readonly [string, readonly string[]])[][] };

/** Reads `parallel:` with GitLab's messages. */
export function readParallel(value: unknown, location: string, position?: SourcePosition): Parallel {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 1 || value > MAX_INSTANCES) {
      throw new ConfigError(`${location} config must be less than or equal to ${MAX_INSTANCES}`, position);
    }
    return { kind: "count", count: value };
  }
  if (isHash(value) && "matrix" in value && !Array.isArray(value.matrix)) {
    throw new ConfigError(`${location}:matrix config should be an array of hashes`, position);
  }
  if (isHash(value) && Array.isArray(value.matrix)) {
    const entries = value.matrix.map((entry) => {
      if (!isHash(entry) || Object.keys(entry).length === 0) {
        throw new ConfigError(`${location}:matrix config should be an array of hashes with at least one key`, position);
      }
      return Object.entries(entry).map(([key, values]) => [key, (Array.isArray(values) ? values : [values]).map(rubyString)] as const);
    });
    const total = entries.reduce((sum, entry) => sum + entry.reduce((n, [, values]) => n * values.length, 1), 0);
    if (total > MAX_INSTANCES) throw new ConfigError(`${location}:matrix config generates too many jobs (maximum is ${MAX_INSTANCES})`, position);
    return { kind: "matrix", entries };
  }
  throw new ConfigError(`${location} should be an integer or a hash`, position);
}

/**
 * A parallel job as its instances (docs/pipeline.md §8.6): `name 1/N` … `name N/N`, or for a matrix
 * `name: [v1, v2]` per combination (the first key varying slowest), each with `CI_NODE_INDEX`,
 * `CI_NODE_TOTAL` and its matrix values as job variables.
 */
export function expandParallel(job: JobDefinition, parallel: Parallel): JobDefinition[] {
  const combos: (readonly [string, string][])[] = parallel.kind === "count"
    ? Array.from({ length: parallel.count }, () => [])
    : parallel.entries.flatMap((entry) => product(entry));
  const total = combos.length;
  return combos.map((combo, i) => {
    const name = parallel.kind === "count" ? `${job.name} ${i + 1}/${total}` : `${job.name}: [${combo.map(([, v]) => v).join(", ")}]`;
    return {
      ...job, name,
      variables: [...job.variables, ...combo.map(([key, value]) => ({ key, value, raw: false }))],
      parallel: { index: i + 1, total, group: job.name, ...(parallel.kind === "matrix" ? { matrix: Object.fromEntries(combo) } : {}) },
    };
  });
}

/**
 * `needs:parallel:matrix`: the instance names it selects — for each entry, every combination of its
 * values in the order written (which must be the needed job's key order), as `job: [v1, v2]`.
 */
export function matrixInstanceNames(job: string, value: unknown, location: string, position?: SourcePosition): string[] {
  const parallel = readParallel(value, location, position);
  if (parallel.kind !== "matrix") throw new ConfigError(`${location} config should be a hash with a matrix`, position);
  return parallel.entries.flatMap((entry) => product(entry)).map((combo) => `${job}: [${combo.map(([, v]) => v).join(", ")}]`);
}

/** Ruby's Array#product over the entry's keys: the first key varies slowest. */
function product(entry: readonly (readonly [string, readonly string[]])[]): [string, string][][] {
  return entry.reduce<[string, string][][]>(
    (combos, [key, values]) => combos.flatMap((combo) => values.map((value) => [...combo, [key, value] as [string, string]])),
    [[]],
  );
}
