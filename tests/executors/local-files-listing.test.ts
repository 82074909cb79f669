import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTree } from "../../src/executors/local-files.ts";

/** A tree of nested directories, files, a link out, and a link back up (`ln -s .. up`). */
function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "runner-listing-"));
  for (const dir of ["a/b/c", "a/d", ".git/objects", "e"]) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ["top.txt", "a/one", "a/b/two", "a/b/c/three", "a/d/four", ".git/HEAD", ".git/objects/x"]) writeFileSync(join(root, file), file);
  symlinkSync("..", join(root, "a", "up"));
  symlinkSync("/etc/passwd", join(root, "e", "out"));
  return root;
}

describe("the local listing, synchronous for its first entries and asynchronous past them (src/executors/local-files.ts)", () => {
  test("the same entries whatever part is walked synchronously: none, some, all", async () => {
    const root = tree();
    const all = await listTree(root, undefined, 10_000);
    expect(all.map((e) => `${e.path}:${e.type}`)).toEqual([
      ".git:directory", ".git/HEAD:file", ".git/objects:directory", ".git/objects/x:file",
      "a:directory", "a/b:directory", "a/b/c:directory", "a/b/c/three:file", "a/b/two:file", "a/d:directory", "a/d/four:file",
      "a/one:file", "a/up:symlink", "e:directory", "e/out:symlink", "top.txt:file",
    ]);
    for (const budget of [0, 1, 3, 7, 15]) expect(await listTree(root, undefined, budget)).toEqual(all);
  });

  test("an unwanted top entry is neither listed nor walked, on either road", async () => {
    const root = tree();
    for (const budget of [0, 2, 10_000]) {
      const paths = (await listTree(root, ".git", budget)).map((e) => e.path);
      expect(paths.some((p) => p === ".git" || p.startsWith(".git/"))).toBe(false);
      expect(paths).toContain("a/b/c/three");
    }
  });

  test("a missing root is an empty listing; a file as the root too", async () => {
    const root = tree();
    for (const budget of [0, 10_000]) {
      expect(await listTree(join(root, "missing"), undefined, budget)).toEqual([]);
      expect(await listTree(join(root, "top.txt"), undefined, budget)).toEqual([]);
    }
  });
});
