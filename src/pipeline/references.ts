import { ConfigError } from "./config-error.ts";
import { isHash } from "./extends.ts";
import { Reference } from "./reference.ts";

/**
 * Replaces every `!reference [a, b, …]` with the value at that path of the configuration, nested
 * references included; a sequence that holds a referenced sequence is flattened one level, as GitLab
 * does for scripts and rules.
 */
export function resolveReferences(root: Record<string, unknown>): Record<string, unknown> {
  const resolve = (value: unknown, chain: readonly string[]): unknown => {
    if (value instanceof Reference) {
      if (value.invalid !== undefined) throw new ConfigError(`!reference ${value.invalid} is not valid`);
      const label = `!reference [${value.path.map((p) => `"${p}"`).join(", ")}]`;
      const key = value.path.join(".");
      if (chain.includes(key)) throw new ConfigError(`${label} is part of a circular chain`);
      let target: unknown = root;
      for (const part of value.path) {
        if (!isHash(target) || !(part in target)) {
          throw new ConfigError(`${label} could not be found`);
        }
        target = (target as Record<string, unknown>)[part];
      }
      // GitLab digs with Hash#dig and treats nil and false alike: a reference to false is not found.
      if (target === null || target === undefined || target === false) throw new ConfigError(`${label} could not be found`);
      return resolve(target, [...chain, key]);
    }
    if (Array.isArray(value)) {
      return value.flatMap((item) => {
        const resolved = resolve(item, chain);
        return item instanceof Reference && Array.isArray(resolved) ? resolved : [resolved];
      });
    }
    if (isHash(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, chain)]));
    }
    return value;
  };
  return resolve(root, []) as Record<string, unknown>;
}
