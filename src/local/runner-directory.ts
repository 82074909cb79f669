import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/** `.runner/` keeps builds, caches and run records out of git: it holds a `.gitignore` of `*`. */
export async function ignoreRunnerDirectory(root: string): Promise<void> {
  const ignore = join(root, ".runner", ".gitignore");
  if (await Bun.file(ignore).exists()) return;
  await mkdir(join(root, ".runner"), { recursive: true });
  await Bun.write(ignore, "# Created by runner: builds and run records stay out of git.\n*\n");
}
