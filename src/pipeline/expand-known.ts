const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * `$VAR` and `${VAR}` replaced by the values `lookup` knows; unknown ones and `$$` are kept as
 * written — GitLab's server-side expansion of keyword values (`expand_existing`, docs/pipeline.md §5.2).
 */
export function expandKnown(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(REFERENCE, (whole, braced: string | undefined, plain: string | undefined) => {
    if (whole === "$$") return whole;
    const value = lookup((braced ?? plain)!);
    return typeof value === "string" ? value : whole;
  });
}
