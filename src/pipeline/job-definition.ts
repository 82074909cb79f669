import type { SourcePosition } from "./config-error.ts";
import type { EnvironmentDefinition } from "./environment.ts";
import type { JobWhen } from "./keywords.ts";
import type { OnlyExcept } from "./only-except.ts";
import type { RetryDefinition } from "./job-options.ts";
import type { ArtifactsDefinition, CacheDefinition } from "./job-files.ts";
import type { Rule } from "./rules.ts";
import type { Hook, Image } from "../protocol/types.ts";

/** A variable as written in `.gitlab-ci.yml`. */
export interface VariableDefinition {
  readonly key: string;
  readonly value: string;
  /** `expand: false` */
  readonly raw: boolean;
  /** A secret (from a secrets file): its value is masked in traces and records. */
  readonly masked?: true;
  /** A file variable (project variables only): the job gets the path of a file holding the value. */
  readonly file?: true;
}

/** One job of the file, with `default:` applied and `extends` resolved. */
export interface JobDefinition {
  readonly name: string;
  readonly stage: string;
  readonly beforeScript: readonly string[];
  readonly script: readonly string[];
  readonly afterScript: readonly string[];
  readonly variables: readonly VariableDefinition[];
  /** `image:` in the payload's shape (name, entrypoint, pull_policy, executor_opts). */
  readonly image?: Image;
  /** `start_in` of a `when: delayed` job, in seconds. */
  readonly startInSeconds?: number;
  /** `allow_failure: exit_codes`: a failure with one of these exit codes is allowed. */
  readonly allowFailureExitCodes?: readonly number[];
  /** `secrets:`: names whose values come from the project's secrets files, as files unless `file: false`. */
  readonly secrets?: readonly { readonly name: string; readonly file: boolean }[];
  /** `hooks:`: scripts run before (and after) the sources arrive. */
  readonly hooks?: readonly Hook[];
  /** `coverage:`: the `/regex/` that finds the job's coverage in its trace. */
  readonly coverage?: string;
  /** `environment:`: sets the job's `CI_ENVIRONMENT_*` variables (no deployment is recorded locally). */
  readonly environment?: EnvironmentDefinition;
  /** `resource_group:`: jobs of the same group never run at the same time. */
  readonly resourceGroup?: string;
  /** Legacy `only:` / `except:` (never with `rules`). */
  readonly only?: OnlyExcept;
  readonly except?: OnlyExcept;
  /** `retry:`: how many more attempts a failed job gets, and for which failures. */
  readonly retry?: RetryDefinition;
  /** `services:` (run by the Docker executor). */
  readonly services?: readonly Image[];
  readonly when: JobWhen;
  readonly allowFailure: boolean;
  readonly timeoutSeconds?: number;
  readonly rules?: readonly Rule[];
  /** `needs:`; undefined means the job waits for every job of the earlier stages. */
  readonly needs?: readonly Need[];
  readonly artifacts?: ArtifactsDefinition;
  readonly cache?: readonly CacheDefinition[];
  /** `dependencies:`; undefined means every job of the earlier stages (or the needs). */
  readonly dependencies?: readonly string[];
  /** `inherit:variables`: the only global variables this job receives; undefined means all of them. */
  readonly inheritVariables?: readonly string[];
  /** A `trigger:` job (a downstream pipeline): planned and shown, never run locally. */
  readonly trigger?: true;
  /** For an instance of a `parallel` job: its number, how many there are, and the job's own name. */
  readonly parallel?: {
    readonly index: number; readonly total: number; readonly group: string;
    /** A matrix instance's values (what `$[[ matrix.KEY ]]` in its needs stands for). */
    readonly matrix?: Readonly<Record<string, string>>;
  };
  readonly position?: SourcePosition;
}

/** One entry of `needs:`. */
export interface Need {
  readonly job: string;
  readonly optional: boolean;
  readonly artifacts: boolean;
  /** `parallel:matrix`: only these instances of a parallel job. */
  readonly instances?: readonly string[];
}

/** The whole file: its stages in order (`.pre` first, `.post` last), global variables and jobs. */
export interface PipelineDefinition {
  readonly stages: readonly string[];
  readonly variables: readonly VariableDefinition[];
  readonly jobs: readonly JobDefinition[];
  readonly workflow?: {
    readonly rules?: readonly Rule[];
    readonly name?: string;
    /** `auto_cancel: on_job_failure: all`: a job's failure cancels the running jobs and the rest. */
    readonly cancelOnJobFailure?: true;
  };
  /** Keywords that are valid GitLab but do nothing in a local run, one line each with the jobs using them. */
  readonly warnings?: readonly string[];
  /** The included files the definition was made from, with the hashes of their texts. */
  readonly sources?: readonly { readonly path: string; readonly hash: string }[];
  /** The include wildcards and the files each matched (a cached plan checks them again). */
  readonly globs?: readonly { readonly pattern: string; readonly matches: readonly string[] }[];
}
