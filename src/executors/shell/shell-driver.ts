import { join, resolve } from "node:path";
import type { ExecutorDriver } from "../executor.ts";
import { createShellExecutor } from "./shell-executor.ts";

/** `executor = "shell"`: the job in `builds_dir` (default `builds`, from the runner's directory) on this machine. */
export const shellDriver: ExecutorDriver = ({ runner, place, hostEnv, headStart }) => {
  const buildsDir = resolve(runner.builds_dir ?? "builds");
  const projectDir = join(buildsDir, place.relative);
  const shell = runner.shell === "sh" ? "sh" : "bash";
  const started = headStart?.claim(shell, buildsDir);
  return createShellExecutor({
    shell, hostEnv, directories: { buildsDir, projectDir, tmpDir: `${projectDir}.tmp` }, ...(started ? { started } : {}),
  });
};
