import { ConfigError } from "./config-error.ts";

/** A variable to be expanded by GitLab before the job reaches a runner. */
export interface ExpandableVariable {
  readonly key: string;
  readonly value: string;
  readonly raw?: boolean;
  readonly file?: boolean;
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)%/g;

/**
 * GitLab's server-side nested expansion (docs/pipeline.md §5.2): every variable that is not raw is
 * expanded against the others, the last definition of a key winning; references to unknown, raw or
 * file variables are kept as written, `$$` is passed on, and a cycle is an error in GitLab's words.
 */
export function expandNested<T extends ExpandableVariable>(variables: readonly T[], jobName: string): T[] {
  const byKey = new Map<string, T>();
  for (const v of variables) byKey.set(v.key, v);
  const done = new Map<string, string>();
  const expand = (key: string, chain: readonly string[]): string => {
    const known = done.get(key);
    if (known !== undefined) return known;
    const variable = byKey.get(key)!;
    if (variable.raw) return variable.value;
    if (chain.includes(key)) {
      const cycle = [...chain.slice(chain.indexOf(key)), key].map((k) => `"${k}"`);
      throw new ConfigError(`${jobName}: circular variable reference detected: [${cycle.slice(0, -1).join(", ")}]`);
    }
    const value = variable.value.replace(REFERENCE, (whole, braced, bare, percent) => {
      const name = braced ?? bare ?? percent;
      if (name === undefined) return whole;
      const target = byKey.get(name);
      if (!target || target.raw || target.file) return whole;
      return expand(name, [...chain, key]);
    });
    done.set(key, value);
    return value;
  };
  return variables.map((v) => (byKey.get(v.key) === v ? { ...v, value: expand(v.key, []) } : v));
}
