import { describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { createZstdCompress } from "node:zlib";
import { pack } from "tar-stream";
import { localFiles } from "../../src/executors/local-files.ts";
import { extractTarZstd, writeTarZstd, ZSTD_MAGIC } from "../../src/steps/archive/tar-zstd.ts";
import { UnsafeArchiveError } from "../../src/steps/archive/unsafe-archive-error.ts";

/**
 * `CACHE_COMPRESSION_FORMAT=tarzstd` (docs.gitlab.com/runner/configuration/feature-flags ... and the
 * CI/CD variables' cache settings): a tar, zstd-compressed, extracted with the zip extractor's
 * refusals (commands/helpers/archive's extractors refuse paths that leave the directory).
 */
const temp = (name: string) => mkdtempSync(join(tmpdir(), `runner-tarzstd-${name}-`));

async function crafted(entries: { name: string; type?: "file" | "symlink" | "directory"; linkname?: string; data?: string }[]): Promise<string> {
  const file = join(temp("crafted"), "cache.tar.zst");
  const tar = pack();
  const done = pipeline(tar as unknown as Readable, createZstdCompress(), createWriteStream(file));
  for (const e of entries) {
    if (e.type === "symlink") tar.entry({ name: e.name, type: "symlink", linkname: e.linkname! });
    else if (e.type === "directory") tar.entry({ name: e.name, type: "directory" });
    else tar.entry({ name: e.name, size: Buffer.byteLength(e.data ?? "x") }, e.data ?? "x");
  }
  tar.finalize();
  await done;
  return file;
}

describe("tar.zst cache archives", () => {
  test("a round trip keeps files, directories, links, modes and times", async () => {
    const src = temp("src");
    mkdirSync(join(src, "vendor/deep"), { recursive: true });
    writeFileSync(join(src, "vendor/deep/lib.so"), Buffer.alloc(300_000, 7));
    writeFileSync(join(src, "vendor/run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    symlinkSync("deep/lib.so", join(src, "vendor/link"));
    const archive = join(temp("out"), "cache.zip");
    await writeTarZstd(localFiles, src, ["vendor", "vendor/deep", "vendor/deep/lib.so", "vendor/link", "vendor/run.sh"], archive, 3);
    expect(readFileSync(archive).subarray(0, 4).equals(ZSTD_MAGIC)).toBe(true);
    expect(statSync(archive).size).toBeLessThan(10_000);
    const dest = temp("dest");
    const { files } = await extractTarZstd(archive, localFiles, dest);
    expect(files).toBe(3);
    expect(readFileSync(join(dest, "vendor/deep/lib.so")).equals(Buffer.alloc(300_000, 7))).toBe(true);
    expect(readlinkSync(join(dest, "vendor/link"))).toBe("deep/lib.so");
    expect(statSync(join(dest, "vendor/run.sh")).mode & 0o777).toBe(0o755);
    expect(Math.abs(lstatSync(join(dest, "vendor/run.sh")).mtimeMs - statSync(join(src, "vendor/run.sh")).mtimeMs)).toBeLessThan(1000);
  });

  const refusals: [string, Parameters<typeof crafted>[0]][] = [
    ["a name with ..", [{ name: "../escaped", data: "out" }]],
    ["an absolute name", [{ name: "/tmp/runner-tarzstd-absolute", data: "out" }]],
    ["a file through a link that leaves", [{ name: "up", type: "symlink", linkname: ".." }, { name: "up/escaped", data: "out" }]],
  ];
  for (const [name, entries] of refusals) {
    test(`refused: ${name}`, async () => {
      const dest = join(temp("refuse"), "project");
      const error = await extractTarZstd(await crafted(entries), localFiles, dest).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsafeArchiveError);
      expect(existsSync(join(dest, "..", "escaped"))).toBe(false);
      expect(existsSync("/tmp/runner-tarzstd-absolute")).toBe(false);
    });
  }
});
