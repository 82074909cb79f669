import { UsageError } from "../exit-codes.ts";
import { useColor, type Registration } from "./command-kit.ts";

/** `runner show` and `runner schema`: a recorded run, and the schemas of its files. */
export const registerRecordCommands: Registration = (program, ctx) => {
  program
    .command("show")
    .description("Show a recorded run again (the latest by default); --html writes a page of it")
    .argument("[run]", "a run id from .runner/runs (default: latest)")
    .option("--cwd <dir>", "the project directory", ".")
    .option("--html <file>", "write one self-contained HTML page of the run")
    .option("--serve [address]", "serve the run's page (PORT, HOST:PORT; 127.0.0.1 and a free port by default) until Ctrl-C")
    .option("--no-color", "no colours (also NO_COLOR)")
    .action(async (run, opts) => {
      const { show, serveShow } = await import("../show.ts");
      if (opts.serve) return ctx.exit(await serveShow({ cwd: opts.cwd, ...(run ? { run } : {}), address: opts.serve === true ? "0" : opts.serve, print: (text) => process.stdout.write(text) }));
      ctx.exit(show({
        cwd: opts.cwd, ...(run ? { run } : {}), ...(opts.html ? { html: opts.html } : {}),
        color: useColor(opts.color, ctx.env), print: (text) => process.stdout.write(text),
      }));
    });
  program
    .command("schema")
    .description("Print the JSON Schema of a run record file (event, job-summary, manifest, run-summary)")
    .argument("[name]", "which schema; none lists them")
    .action(async (name) => {
      const { SCHEMAS, SCHEMA_FILES } = await import("../../record/schemas.ts");
      if (!name) {
        for (const [key, file] of Object.entries(SCHEMA_FILES)) process.stdout.write(`${key.padEnd(12)} ${file}\n`);
        return;
      }
      const schema = SCHEMAS[name as keyof typeof SCHEMAS];
      if (!schema) throw new UsageError(`No schema "${name}"; there are: ${Object.keys(SCHEMAS).join(", ")}`);
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
};

/** `runner completion <shell>`: the completion library loads only when a shell asks for completions. */
export async function registerCompletion(program: Parameters<Registration>[0], argv: readonly string[]): Promise<void> {
  if (argv[0] === "completion" || argv[0] === "complete") {
    const { default: tab } = await import("@bomb.sh/tab/commander");
    tab(program as unknown as Parameters<typeof tab>[0], { completionCommandName: "completion" });
  } else {
    program.command("completion <shell>").description("Print a shell completion script (bash, zsh, fish, powershell)");
  }
}
