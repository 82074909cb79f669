/**
 * GitLab Runner's feature flags, in its order and with its defaults (helpers/featureflags/flags.go,
 * https://docs.gitlab.com/runner/configuration/feature-flags/), and what this runner does with each:
 *
 * - `honoured`: both values work as in GitLab Runner.
 * - `fixed`: the runner always behaves as `behaves`; asking for the other value is named in the trace.
 * - `inapplicable`: the flag is about something this runner does not have (Kubernetes, Windows, …);
 *   setting it away from its default is named in the trace.
 */
export type FlagSupport =
  | { readonly kind: "honoured" }
  | { readonly kind: "fixed"; readonly behaves: boolean; readonly reason: string }
  | { readonly kind: "inapplicable"; readonly reason: string };

export interface FlagSpec {
  readonly name: string;
  readonly defaultValue: boolean;
  readonly support: FlagSupport;
}

const honoured: FlagSupport = { kind: "honoured" };
const fixed = (behaves: boolean, reason: string): FlagSupport => ({ kind: "fixed", behaves, reason });
const inapplicable = (reason: string): FlagSupport => ({ kind: "inapplicable", reason });
const KUBERNETES = inapplicable("it is for the kubernetes executor");
const WINDOWS = inapplicable("it is for Windows");
const POWERSHELL = inapplicable("it is for PowerShell");
const NO_DISTRIBUTED_CACHE = inapplicable("it is for a distributed cache, which this runner does not have yet");

export const FEATURE_FLAGS = [
  { name: "FF_TEST_FEATURE", defaultValue: false, support: inapplicable("it is for GitLab Runner's own tests") },
  { name: "FF_NETWORK_PER_BUILD", defaultValue: false, support: honoured },
  { name: "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", defaultValue: false, support: KUBERNETES },
  { name: "FF_USE_DIRECT_DOWNLOAD", defaultValue: true, support: honoured },
  { name: "FF_SKIP_NOOP_BUILD_STAGES", defaultValue: true, support: fixed(true, "stages with nothing to do are always skipped") },
  { name: "FF_USE_FASTZIP", defaultValue: false, support: fixed(false, "archives are written by the runner's own zip writer") },
  { name: "FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR", defaultValue: false, support: honoured },
  { name: "FF_ENABLE_BASH_EXIT_CODE_CHECK", defaultValue: false, support: honoured },
  { name: "FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY", defaultValue: false, support: WINDOWS },
  {
    name: "FF_USE_NEW_BASH_EVAL_STRATEGY", defaultValue: false,
    support: fixed(true, "scripts are not run through eval, so a failing command's exit code is always the job's"),
  },
  { name: "FF_USE_POWERSHELL_PATH_RESOLVER", defaultValue: false, support: POWERSHELL },
  { name: "FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL", defaultValue: false, support: fixed(false, "the trace is force-sent at a fixed interval") },
  { name: "FF_SCRIPT_SECTIONS", defaultValue: false, support: honoured },
  { name: "FF_ENABLE_JOB_CLEANUP", defaultValue: false, support: fixed(false, "the build directory is kept for the next job") },
  { name: "FF_KUBERNETES_HONOR_ENTRYPOINT", defaultValue: false, support: KUBERNETES },
  { name: "FF_POSIXLY_CORRECT_ESCAPES", defaultValue: false, support: inapplicable("values are always quoted for the shell that reads them") },
  { name: "FF_RESOLVE_FULL_TLS_CHAIN", defaultValue: false, support: inapplicable("the runner resolves no certificate chain for CI_SERVER_TLS_CA_FILE") },
  { name: "FF_DISABLE_POWERSHELL_STDIN", defaultValue: false, support: POWERSHELL },
  { name: "FF_USE_POD_ACTIVE_DEADLINE_SECONDS", defaultValue: true, support: KUBERNETES },
  { name: "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", defaultValue: false, support: KUBERNETES },
  { name: "FF_SET_PERMISSIONS_BEFORE_CLEANUP", defaultValue: true, support: inapplicable("the build directory is not removed at the end of a job") },
  { name: "FF_SECRET_RESOLVING_FAILS_IF_MISSING", defaultValue: true, support: inapplicable("external secrets (Vault and others) are not resolved by this runner") },
  { name: "FF_PRINT_POD_EVENTS", defaultValue: false, support: KUBERNETES },
  { name: "FF_USE_GIT_BUNDLE_URIS", defaultValue: true, support: fixed(false, "git fetches without bundle URIs") },
  { name: "FF_USE_GIT_NATIVE_CLONE", defaultValue: false, support: fixed(false, "sources are fetched with git init and git fetch") },
  { name: "FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR", defaultValue: false, support: KUBERNETES },
  { name: "FF_USE_INIT_WITH_DOCKER_EXECUTOR", defaultValue: false, support: honoured },
  { name: "FF_LOG_IMAGES_CONFIGURED_FOR_JOB", defaultValue: false, support: fixed(false, "the runner's log does not name the job's images") },
  { name: "FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO", defaultValue: true, support: inapplicable("it is for the docker-autoscaler executor") },
  { name: "FF_CLEAN_UP_FAILED_CACHE_EXTRACT", defaultValue: false, support: fixed(false, "a failed cache extraction leaves what it extracted") },
  { name: "FF_USE_WINDOWS_JOB_OBJECT", defaultValue: false, support: WINDOWS },
  { name: "FF_TIMESTAMPS", defaultValue: true, support: honoured },
  { name: "FF_DISABLE_AUTOMATIC_TOKEN_ROTATION", defaultValue: false, support: honoured },
  { name: "FF_USE_LEGACY_GCS_CACHE_ADAPTER", defaultValue: false, support: NO_DISTRIBUTED_CACHE },
  { name: "FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR", defaultValue: false, support: KUBERNETES },
  { name: "FF_USE_LEGACY_S3_CACHE_ADAPTER", defaultValue: false, support: NO_DISTRIBUTED_CACHE },
  { name: "FF_GIT_URLS_WITHOUT_TOKENS", defaultValue: false, support: fixed(false, "the job token is part of the URL git fetches from") },
  { name: "FF_WAIT_FOR_POD_TO_BE_REACHABLE", defaultValue: false, support: KUBERNETES },
  { name: "FF_MASK_ALL_DEFAULT_TOKENS", defaultValue: true, support: honoured },
  { name: "FF_EXPORT_HIGH_CARDINALITY_METRICS", defaultValue: false, support: fixed(false, "no high-cardinality metrics are exported") },
  { name: "FF_USE_FLEETING_ACQUIRE_HEARTBEATS", defaultValue: false, support: inapplicable("it is for fleeting (autoscaled) executors") },
  { name: "FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", defaultValue: true, support: honoured },
  { name: "FF_USE_ADAPTIVE_REQUEST_CONCURRENCY", defaultValue: true, support: fixed(false, "request_concurrency requests are always in flight") },
  { name: "FF_USE_GITALY_CORRELATION_ID", defaultValue: true, support: fixed(false, "git sends no X-Gitaly-Correlation-ID header") },
  { name: "FF_USE_GIT_PROACTIVE_AUTH", defaultValue: false, support: fixed(false, "git waits for a 401 before it sends credentials") },
  { name: "FF_HASH_CACHE_KEYS", defaultValue: false, support: fixed(false, "cache keys are used as they are") },
  { name: "FF_ENABLE_JOB_INPUTS_INTERPOLATION", defaultValue: true, support: inapplicable("job inputs are not interpolated by this runner") },
  { name: "FF_USE_JOB_ROUTER", defaultValue: false, support: inapplicable("jobs are always asked of GitLab itself") },
  { name: "FF_SCRIPT_TO_STEP_MIGRATION", defaultValue: false, support: fixed(false, "scripts run in the shell, not as steps") },
] as const satisfies readonly FlagSpec[];

/** The name of a flag GitLab Runner knows. */
export type FlagName = (typeof FEATURE_FLAGS)[number]["name"];
