import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/** `.runner/` keeps builds, caches and run records out of git: it holds a `.gitignore` of `*`. */
export async function ignoreRunnerDirectory(root: string): Promise<void> {
  const ignore = join(root, ".runner", ".gitignore");
  if (await Bun.file(ignore).exists()) return;
  // Never the project directory itself: a mistyped --cwd is reported, not created.
  try {
    await mkdir(join(root, ".runner"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return;
    if (code !== "EEXIST") throw error;
  }
  await Bun.write(ignore, "# Created by runner: builds and run records stay out of git.\n*\n");
}
