import type { RunnerConfig } from "../config/config-schema.ts";
import type { PullPolicy } from "../protocol/types.ts";
import type { ShellName } from "../shell/shell-writer.ts";
import type { LocalExecutorName } from "./executor-choice.ts";
import type { ExecPrefetch } from "./exec-prefetch.ts";

/** The options of `runner exec`. */
export interface ExecOptions {
  readonly jobs: readonly string[];
  readonly file: string;
  /** The git calls already under way for the project directory (`--cwd`). */
  readonly prefetch: ExecPrefetch;
  readonly variables: readonly string[];
  /** `--input name=value`: the pipeline's `spec:inputs`. */
  readonly inputs?: readonly string[];
  /** `--variables-file` / `--secrets-file`: dotenv files of project variables (secrets are masked). */
  readonly variablesFiles?: readonly string[];
  readonly secretsFiles?: readonly string[];
  /** `--executor`: every job runs there; absent, a job with an image runs in Docker when an engine answers. */
  readonly executor?: LocalExecutorName;
  /** For the Docker executor: the image of jobs without one, the helper image and the pull policy. */
  readonly docker?: { readonly image?: string; readonly helperImage?: string; readonly pullPolicy: PullPolicy };
  /** For `--executor ssh`: `[runners.ssh]` as the flags (over `--config`'s) give it, and the remote builds directory. */
  readonly ssh?: { readonly section: NonNullable<RunnerConfig["ssh"]>; readonly buildsDir?: string };
  /** For `--executor custom`: `[runners.custom]` as the flags (over `--config`'s) give it, and the builds directory. */
  readonly custom?: { readonly section: Record<string, unknown>; readonly buildsDir?: string };
  readonly shell: ShellName;
  readonly concurrency?: number;
  /** `--protected`: run as on a protected branch or tag (CI_COMMIT_REF_PROTECTED, protected caches). */
  readonly protectedRef?: boolean;
  /** `--needs`: the named jobs run with everything they wait for. */
  readonly withNeeds?: boolean;
  /** `--manual JOB`: manual jobs played in this run. */
  readonly manual?: readonly string[];
  /** `--list` / `--list-json`: print the plan (jobs, stages, when, needs, exclusions) and run nothing. */
  readonly list?: "table" | "json";
  /** `--preview`: print the merged configuration GitLab would see (includes, extends, !reference resolved). */
  readonly preview?: boolean;
  /** `--graph`: draw the plan's DAG, run nothing. */
  readonly graph?: boolean;
  /** `--dry-run`: plan and validate, run nothing. */
  readonly dryRun?: boolean;
  /** `--serve [ADDR]`: the run's page, live, from a server on ADDR; `--stay` keeps it after the run. */
  readonly serve?: { readonly address: string; readonly stay: boolean };
  /** `--keep`: a failed job's containers (Docker) stay for debugging. */
  readonly keep?: boolean;
  /** `--shell-on-failure`: an interactive shell in a failed job's build container (Docker), through these. */
  readonly shellOnFailure?: { readonly stdin: NodeJS.ReadStream; readonly stdout: NodeJS.WriteStream };
  readonly buildsDir?: string;
  /** `--cache-*` or `--config`'s `[runners.cache]`: the fleet's shared cache, for local jobs too. */
  readonly sharedCache?: RunnerConfig["cache"];
  /** Whether parsed pipelines are cached in `.runner/cache` (on unless `--no-cache`). */
  readonly cache: boolean;
  readonly color: boolean;
  /** Stream the run record's events as JSON lines on stdout instead of the human view. */
  readonly json?: boolean;
  /** Whether stdout is a terminal: then a live status line is kept at the bottom. */
  readonly terminal?: boolean;
  readonly print: (text: string) => void;
  readonly printError: (text: string) => void;
  readonly env: Record<string, string>;
}
