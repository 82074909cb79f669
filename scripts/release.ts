/**
 * `bun run release`: one executable per platform in dist/release — linux-x64, linux-x64-musl,
 * linux-arm64, darwin-arm64 — each with the version and git revision embedded, and SHA256SUMS.
 * Bun fetches each target's runtime from the npm registry the first time (no other network).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const TARGETS = {
  "linux-x64": "bun-linux-x64",
  "linux-x64-musl": "bun-linux-x64-musl",
  "linux-arm64": "bun-linux-arm64",
  "darwin-arm64": "bun-darwin-arm64",
} as const;

const root = join(import.meta.dir, "..");
const out = join(root, "dist", "release");
mkdirSync(out, { recursive: true });
const sums: string[] = [];
for (const [name, target] of Object.entries(TARGETS)) {
  const file = join(out, `runner-${name}`);
  const built = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), file, target], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (built.exitCode !== 0) {
    console.error(`release: ${name} did not build`);
    process.exit(1);
  }
  const hash = new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
  sums.push(`${hash}  ${basename(file)}`);
}
writeFileSync(join(out, "SHA256SUMS"), `${sums.join("\n")}\n`);
console.log(`release: ${Object.keys(TARGETS).length} executables and SHA256SUMS in ${out}`);
