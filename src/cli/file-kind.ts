import { stat } from "node:fs/promises";

/** What is at `path`: a file to read, a directory (which cannot be), or nothing. */
export async function fileKind(path: string): Promise<"file" | "directory" | "missing"> {
  const found = await stat(path).catch(() => undefined);
  if (!found) return "missing";
  return found.isDirectory() ? "directory" : "file";
}

/** Why `path` cannot be read as a file (`no such file`, `is a directory`), or undefined when it can. */
export async function unreadable(path: string): Promise<string | undefined> {
  const kind = await fileKind(path);
  return kind === "missing" ? "no such file" : kind === "directory" ? "is a directory, not a file" : undefined;
}
