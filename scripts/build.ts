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
 * node:assert for the completion library's one check of a shell's name (0.9 ms) — the same
 * work, from Bun, at the call — and node:child_process for commander's executable subcommands,
 * which runner has none of (0.7 ms), required if one ever runs. (src/node-stream.ts says why the
 * runner's own modules take node:stream at the call.) docker-modem requires its `ssh://` transport, and with it ssh2 (two
 * native addons, crypto, zlib), whenever it loads: ~11 ms of every Docker job's start (a compiled
 * `import "docker-modem"`: 30 -> 19.5 ms median, 15 interleaved runs); it is required when an ssh
 * agent is made. A dependency update that changes these lines stops the build here rather than
 * silently bringing the cost back.
 */
const startupShims: { file: RegExp; replacements: { from: string; to: string }[] }[] = [
  { file: /commander[\\/]lib[\\/]help\.js$/, replacements: [{ from: "import { stripVTControlCharacters } from 'node:util';", to: "const stripVTControlCharacters = (text) => Bun.stripANSI(text);" }] },
  {
    file: /commander[\\/]lib[\\/]command\.js$/,
    replacements: [
      { from: "import { stripVTControlCharacters } from 'node:util';", to: "const stripVTControlCharacters = (text) => Bun.stripANSI(text);" },
      // Executable subcommands only, which runner has none of (0.7 ms of a compiled hello world).
      { from: "import childProcess from 'node:child_process';", to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };" },
    ],
  },
  { file: /@bomb\.sh[\\/]tab[\\/]dist[\\/]index\.mjs$/, replacements: [{ from: 'import i from"node:assert";', to: "const i=(ok,message)=>{if(!ok)throw new Error(message)};" }] },
  { file: /docker-modem[\\/]lib[\\/]modem\.js$/, replacements: [{ from: "ssh = require('./ssh'),", to: "ssh = function (options) { return require('./ssh')(options); }," }] },
];
const noStartupBuiltins: Bun.BunPlugin = {
  name: "no-startup-builtins",
  setup(build) {
    for (const shim of startupShims) {
      build.onLoad({ filter: shim.file }, async ({ path }) => {
        let text = await Bun.file(path).text();
        for (const { from, to } of shim.replacements) {
          if (!text.includes(from)) throw new Error(`${path} no longer has ${JSON.stringify(from)}: update startupShims in scripts/build.ts`);
          text = text.replace(from, to);
        }
        return { contents: text, loader: "js" };
      });
    }
  },
};

const result = await Bun.build({
  // The thread that writes trace files (src/trace/trace-file-writer.ts finds it under this path).
  entrypoints: ["./main.ts", "./src/trace/trace-file-worker.ts"],
  plugins: [noStartupBuiltins],
  // Start-up code mostly runs once: tier-up thresholds ×32 until src/cli/start-up-jit.ts restores
  // the normal policy a second in. Interleaved medians against ×1 (21 rounds, 3 December): a trivial
  // exec 49.9 -> 45.4 ms, 5 jobs 121.5 -> 104.1 ms, a 190-job `--dry-run --no-cache` 92.0 -> 72.1 ms
  // (×16 and ×100 within the noise of ×32).
  compile: { ...(target ? { target: target as Bun.Build.CompileTarget } : {}), outfile, jitPolicy: 32 },
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
