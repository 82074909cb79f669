import type { Registration } from "./command-kit.ts";

/**
 * `runner helper files`: what the runner starts inside a job's helper container (hidden from
 * help). It serves the container's files on stdin/stdout to the runner's file client, so sources,
 * artifacts and caches reach a build volume through the Engine API alone.
 */
export const registerHelper: Registration = (program) => {
  const helper = program.command("helper", { hidden: true }).description("What the runner runs inside a job's containers");
  helper
    .command("files")
    .description("Serve this container's files to the runner on stdin and stdout")
    .action(async () => {
      const [{ serveFiles }, { localFiles }] = await Promise.all([
        import("../../executors/file-service/file-server.ts"), import("../../executors/local-files.ts"),
      ]);
      await serveFiles(localFiles, process.stdin, process.stdout);
    });
};
