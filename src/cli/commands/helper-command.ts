import type { Registration } from "./command-kit.ts";

/**
 * `runner helper files` and `runner helper serve`: what the runner starts inside a job's container
 * (hidden from help). `files` serves the container's files on stdin/stdout to the runner's file
 * client (an exec), so sources, artifacts and caches reach a build volume through the Engine API
 * alone; `serve`, the container's own command, serves them and runs the job's stages on its attach
 * stream.
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
  helper
    .command("serve")
    .description("Serve this container's files and run the job's stages on stdin and stdout")
    .action(async () => {
      const [{ hostContainer }, { localFiles }] = await Promise.all([
        import("../../executors/docker/container-host.ts"), import("../../executors/local-files.ts"),
      ]);
      await hostContainer(localFiles, process.stdin, process.stdout);
      process.exit(0);
    });
};
