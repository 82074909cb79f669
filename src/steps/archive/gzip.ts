import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { BuildFiles } from "../../executors/build-files.ts";

/**
 * The `gzip` artifact format (reports such as junit and dotenv): one gzip member per file,
 * concatenated (docs/protocol.md §7.1), streaming.
 */
export async function writeGzip(files: BuildFiles, root: string, entries: readonly string[], file: string): Promise<void> {
  // Loaded when used: every built-in a module imports is loaded when the binary starts.
  const [{ createGzip }, { pipeline }] = await Promise.all([import("node:zlib"), import("node:stream/promises")]);
  const out = createWriteStream(file, { mode: 0o600 });
  for (const entry of entries) {
    // Node's gzip writes no name into the header; GitLab reads the members in order.
    await pipeline(await files.readInside(root, join(root, entry)), createGzip(), out, { end: false });
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}
