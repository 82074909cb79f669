import { z } from "../../zod-jitless.ts";
import { JobFailure } from "../../protocol/job-failure.ts";

/** What config_exec may print on stdout (executors/custom/api/config.go ConfigExecOutput); other keys are ignored. */
const configOutputSchema = z.object({
  builds_dir: z.string().min(1).optional(),
  cache_dir: z.string().min(1).optional(),
  builds_dir_is_shared: z.boolean().optional(),
  hostname: z.string().optional(),
  driver: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
  job_env: z.record(z.string(), z.string()).optional(),
  shell: z.string().optional(),
});

export type ConfigOutput = z.infer<typeof configOutputSchema>;

/** config_exec's stdout: nothing, or a JSON object of the keys above. */
export function parseConfigOutput(stdout: string): ConfigOutput {
  if (stdout.trim() === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (error) {
    throw new JobFailure(`error while parsing JSON output: ${(error as Error).message}`, { failureReason: "runner_system_failure", system: true });
  }
  const parsed = configOutputSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new JobFailure(`error while parsing JSON output: ${issue.path.join(".") || "the output"}: ${issue.message}`, {
      failureReason: "runner_system_failure", system: true,
    });
  }
  return parsed.data;
}

/** GitLab Runner's line after config_exec (custom.go logStartupMessage). */
export function startupLine(driver: ConfigOutput["driver"]): string {
  if (!driver?.name) return "Using Custom executor...";
  return driver.version ? `Using Custom executor with driver ${driver.name} ${driver.version}...` : `Using Custom executor with driver ${driver.name}...`;
}
