/**
 * GitLab Runner's cache key sanitizing (docs/protocol.md §8.1): `%2F`/`%2E` decoded, `\` made `/`,
 * `.` and `..` resolved inside a virtual root, trailing white space trimmed from segments; empty
 * segments dropped. An empty result means the cache is skipped.
 */
export function sanitizeCacheKey(raw: string): string {
  const decoded = raw.replace(/%2f/gi, "/").replace(/%2e/gi, ".").replaceAll("\\", "/");
  const parts: string[] = [];
  for (const segment of decoded.split("/")) {
    const part = segment.replace(/\s+$/, "");
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}
