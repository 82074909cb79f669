import type { Registration } from "./command-kit.ts";

/** `runner prune`: what local runs keep between runs, removed. */
export const registerPrune: Registration = (program, ctx) => {
  program
    .command("prune")
    .description("Remove what local runs of this project keep between runs: its Docker build volumes and .runner/builds")
    .option("--cwd <dir>", "the project directory", ".")
    .option("--all", "every local run's build volumes, and the runner's tools volumes")
    .action(async (opts) => {
      const { prune } = await import("../prune.ts");
      ctx.exit(await prune({ cwd: opts.cwd, all: opts.all === true, env: ctx.env, print: (line) => void process.stdout.write(`${line}\n`) }));
    });
};
