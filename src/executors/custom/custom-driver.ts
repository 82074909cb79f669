import type { ExecutorDriver } from "../executor.ts";
import { customSettings } from "./custom-config.ts";
import { createCustomExecutor } from "./custom-executor.ts";

/** `executor = "custom"`: the job run by the executables of `[runners.custom]`. */
export const customDriver: ExecutorDriver = ({ runner, payload, place, hostEnv }) =>
  createCustomExecutor({
    settings: customSettings(runner), payload, relative: place.relative, hostEnv,
    ...(runner.builds_dir ? { buildsDir: runner.builds_dir } : {}), ...(runner.shell ? { shell: runner.shell } : {}),
  });
