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

/**
 * Modules dependencies import at their top for a rarely taken path. A compiled binary loads every
 * built-in its bundle imports before `main` runs, so these would cost every start: node:util for
 * commander's colour stripping (help text only; 1.4 ms of a 5 ms hello world, 30 interleaved runs)
 * and node:assert for the completion library's one check of a shell's name (0.9 ms) — the same
 * work, from Bun, at the call. docker-modem requires its `ssh://` transport, and with it ssh2 (two
 * native addons, crypto, zlib), whenever it loads: ~11 ms of every Docker job's start (a compiled
 * `import "docker-modem"`: 30 -> 19.5 ms median, 15 interleaved runs); it is required when an ssh
 * agent is made. A dependency update that changes these lines stops the build here rather than
 * silently bringing the cost back.
 */
const startupShims: { file: RegExp; from: string; to: string }[] = [
  { file: /commander[\\/]lib[\\/](help|command)\.js$/, from: "import { stripVTControlCharacters } from 'node:util';", to: "const stripVTControlCharacters = (text) => Bun.stripANSI(text);" },
  { file: /@bomb\.sh[\\/]tab[\\/]dist[\\/]index\.mjs$/, from: 'import i from"node:assert";', to: "const i=(ok,message)=>{if(!ok)throw new Error(message)};" },
  { file: /docker-modem[\\/]lib[\\/]modem\.js$/, from: "ssh = require('./ssh'),", to: "ssh = function (options) { return require('./ssh')(options); }," },
];
const noStartupBuiltins: Bun.BunPlugin = {
  name: "no-startup-builtins",
  setup(build) {
    for (const shim of startupShims) {
      build.onLoad({ filter: shim.file }, async ({ path }) => {
        const text = await Bun.file(path).text();
        if (!text.includes(shim.from)) throw new Error(`${path} no longer has ${JSON.stringify(shim.from)}: update startupShims in scripts/build.ts`);
        return { contents: text.replace(shim.from, shim.to), loader: "js" };
      });
    }
  },
};

const result = await Bun.build({
  entrypoints: ["./main.ts"],
  plugins: [noStartupBuiltins],
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
