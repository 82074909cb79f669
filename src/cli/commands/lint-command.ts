import { collect, type Registration } from "./command-kit.ts";

/** `runner lint`: GitLab's CI Lint, locally. */
export const registerLint: Registration = (program, ctx) => {
  program
    .command("lint")
    .description("Check a .gitlab-ci.yml as GitLab's CI Lint does: every error with file, line and column (exit 2 when invalid)")
    .option("-f, --file <path>", "the pipeline file", ".gitlab-ci.yml")
    .option("--cwd <dir>", "the project directory", ".")
    .option("-i, --input <name=value>", "a pipeline input of the file's spec:inputs (repeatable)", collect, [] as string[])
    .option("--json", "print the report as JSON")
    .action(async (opts) => {
      const { lintCommand } = await import("../lint.ts");
      ctx.exit(await lintCommand({
        cwd: opts.cwd, file: opts.file, inputs: opts.input, json: opts.json === true, env: ctx.env, print: (text) => process.stdout.write(text),
      }));
    });
};
