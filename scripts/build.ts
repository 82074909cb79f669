/**
 * `bun run build`: compiles main.ts into one executable, dist/runner, with the version (from
 * package.json) and the git revision embedded.
 */
import pkg from "../package.json" with { type: "json" };

const revision = (await Bun.$`git rev-parse HEAD`.nothrow().quiet().text()).trim() || "unknown";
// The sources themselves, uncommitted edits included: what the plan cache is keyed on.
const hasher = new Bun.CryptoHasher("sha256");
for (const path of ["main.ts", ...[...new Bun.Glob("src/**/*.ts").scanSync(".")].sort()]) {
  hasher.update(path);
  hasher.update(await Bun.file(path).arrayBuffer());
}
const buildId = hasher.digest("hex").slice(0, 16);
const outfile = process.argv[2] ?? "dist/runner";
const target = process.argv[3];

const result = await Bun.build({
  entrypoints: ["./main.ts"],
  compile: target ? { target: target as Bun.Build.CompileTarget, outfile } : { outfile },
  minify: true,
  // Bytecode skips parsing at start-up: `--version` drops from ~60 ms to ~20 ms.
  bytecode: true,
  format: "esm",
  sourcemap: "none",
  define: {
    RUNNER_VERSION: JSON.stringify(pkg.version),
    RUNNER_REVISION: JSON.stringify(revision),
    RUNNER_BUILD_ID: JSON.stringify(buildId),
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (${pkg.version}, ${revision.slice(0, 8)})`);
