import { ConfigFileError } from "../config/config-file-error.ts";
import { ConfigError, ConfigErrorList } from "../pipeline/config-error.ts";
import { UnknownJobError } from "../pipeline/plan.ts";
import { UsageError } from "./exit-codes.ts";

/** The one line that reports bad input (exit code 2), or undefined for any other error. */
export function badInputMessage(error: unknown): string | undefined {
  if (error instanceof ConfigErrorList) return `Invalid configuration:\n  ${error.describe().replaceAll("\n", "\n  ")}`;
  if (error instanceof ConfigError) return `Invalid configuration: ${error.describe()}`;
  if (error instanceof UnknownJobError || error instanceof UsageError || error instanceof ConfigFileError) return error.message;
  return undefined;
}
