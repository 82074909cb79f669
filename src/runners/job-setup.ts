import { resolve } from "node:path";
import type { RunnerConfig } from "../config/config-schema.ts";
import type { BuildPlace, Executor } from "../executors/executor.ts";
import { shortToken } from "../protocol/token.ts";
import type { JobResponse, JobVariable } from "../protocol/types.ts";
import type { ArtifactTransfer } from "../steps/artifact-transfer.ts";
import type { SourceProvider } from "../steps/context.ts";
import type { JobSignals, RunJobOptions } from "../steps/run-job.ts";
import type { JobRecorder } from "../record/job-recorder.ts";
import type { TraceSink } from "../trace/job-trace.ts";
import { executorFor, runnerInfoFor } from "./executor-registry.ts";
import type { RemoteCache } from "../steps/remote-cache/remote-cache.ts";
import type { ShellHeadStart } from "../executors/shell/shell-head-start.ts";

/**
 * What the road a job came by provides around it: where its trace goes, where its sources and
 * artifacts come from, how it is stopped. GitLab's jobs and `runner exec`'s differ only here.
 */
export interface JobRoad {
  readonly sink: TraceSink;
  /**
   * Where the sources come from: GitLab's repository (fetched by git in the job's environment), or
   * given the executor, a copy the road makes through its files (then no container needs git).
   */
  readonly sources: SourceProvider | ((executor: Executor) => SourceProvider);
  readonly artifacts?: ArtifactTransfer;
  readonly signals: JobSignals;
  readonly recorder?: JobRecorder;
  readonly warnings?: readonly string[];
  readonly onSection?: (name: string) => void;
  /** Wraps the executor the runner's settings make (`runner exec --keep`, `--shell-on-failure`). */
  readonly decorate?: (executor: Executor) => Executor;
  readonly systemId?: string;
  /** A shell the run started before planning (`runner exec`), for the job's executor to claim. */
  readonly headStart?: ShellHeadStart;
}

/**
 * Everything one job needs, from the only two inputs below the planner: the job as GitLab sends it
 * and a `[[runners]]` entry (config.toml's, or the one `runner exec` and `run-single` make of their
 * flags). The executor, its directories, the cache, the runner's variables and scripts all come
 * from these, the same way whatever road the job came by.
 */
export async function jobRunOptions(runner: RunnerConfig, payload: JobResponse, place: BuildPlace, hostEnv: Readonly<Record<string, string | undefined>>, road: JobRoad): Promise<RunJobOptions> {
  const made = await executorFor({
    runner, payload, place, hostEnv, sourcesCopiedIn: typeof road.sources === "function", ...(road.headStart ? { headStart: road.headStart } : {}),
  });
  const executor = road.decorate ? road.decorate(made) : made;
  const info = runnerInfoFor(runner);
  return {
    job: payload, executor, sink: road.sink, signals: road.signals,
    sources: typeof road.sources === "function" ? road.sources(executor) : road.sources,
    ...(road.artifacts ? { artifacts: road.artifacts } : {}),
    settings: {
      userAgent: `gitlab-runner ${info.version} ${info.platform}/${info.architecture}`,
      preGetSourcesScript: lines(runner.pre_get_sources_script ?? runner.pre_clone_script),
      postGetSourcesScript: lines(runner.post_get_sources_script ?? runner.post_clone_script),
      preBuildScript: lines(runner.pre_build_script),
      postBuildScript: lines(runner.post_build_script),
      cacheDir: resolve(runner.cache_dir ?? "cache"),
      ...(await remoteCacheOf(runner, payload)),
    },
    runner: {
      name: runner.name || "runner",
      ...(runner.token ? { shortToken: shortToken(runner.token) } : {}),
      ...(place.concurrentId !== undefined ? { concurrentId: place.concurrentId } : {}),
      ...(road.systemId ? { systemId: road.systemId } : {}),
    },
    environment: runnerEnvironment(runner),
    featureFlags: runner.feature_flags,
    debugTraceDisabled: runner.debug_trace_disabled ?? false,
    ...(road.recorder ? { recorder: road.recorder } : {}),
    ...(road.warnings?.length ? { warnings: road.warnings } : {}),
    ...(road.onSection ? { onSection: road.onSection } : {}),
  };
}

/**
 * `[runners.cache] Type = "s3"`: URLs signed here for the job's timeout (as GitLab Runner's), for
 * `[Path/][runner/<short token>/]project/<id>/<key>`.
 */
async function remoteCacheOf(runner: RunnerConfig, payload: JobResponse): Promise<{ remoteCache?: RemoteCache }> {
  const cache = runner.cache;
  if (cache?.Type !== "s3") return {};
  // Loaded only for a shared cache: the signing library is not a plain job's to pay for.
  const [{ s3Presigner }, { presignedCache }] = await Promise.all([import("../steps/remote-cache/s3-urls.ts"), import("../steps/remote-cache/remote-cache.ts")]);
  // A local run has no token: its unshared objects are under runner/exec/.
  const presign = s3Presigner(cache, { runnerShortToken: shortToken(runner.token) || "exec", projectId: payload.job_info.project_id, validSeconds: payload.runner_info.timeout || 3600 });
  return { remoteCache: presignedCache(presign, { ...(cache.MaxUploadedArchiveSize ? { maxUploadBytes: cache.MaxUploadedArchiveSize } : {}) }) };
}

/** `[[runners]] environment` as job variables (`KEY=value`; a bare `KEY` is empty). */
export function runnerEnvironment(runner: RunnerConfig): JobVariable[] {
  return runner.environment.map((entry) => {
    const eq = entry.indexOf("=");
    return eq < 0
      ? { key: entry, value: "", public: true, masked: false }
      : { key: entry.slice(0, eq), value: entry.slice(eq + 1), public: true, masked: false };
  });
}

function lines(script: string | undefined): string[] {
  return script === undefined || script.trim() === "" ? [] : [script];
}
