import { z } from "../zod-jitless.ts";
import type { JobResponse } from "./types.ts";

/**
 * The job payload as it arrives from GitLab, checked at the boundary. GitLab Runner decodes it into
 * Go structs (`common/spec/spec.go` `Job`): a key that is missing or `null` takes its zero value, an
 * unknown key is ignored, and a value of the wrong type fails the decoding. This schema does the
 * same, so that nothing below it ever meets an `undefined` where the payload type promises a value.
 */

/** `null` or missing: the Go zero value. */
const zero = <T extends z.ZodType>(schema: T, value: unknown) =>
  z.preprocess((v) => (v === null ? undefined : v), schema.prefault(value as never)) as unknown as z.ZodType<z.output<T>>;
const maybe = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

const str = z.string();
const strings = z.array(z.string());
const int = z.number().int();

const variable = z.looseObject({
  key: str, value: str, public: zero(z.boolean(), false), masked: zero(z.boolean(), false),
  file: maybe(z.boolean()), raw: maybe(z.boolean()),
});

/** GitLab Runner's `supportedExecutorOptions` (common/spec/spec.go). */
const SUPPORTED_EXECUTOR_OPTIONS: Record<string, readonly string[]> = { docker: ["platform", "user"], kubernetes: ["user"] };

const stringOrInt = z.union([str, int]).transform(String);
const executorOptions = z.looseObject({
  docker: maybe(z.looseObject({ platform: maybe(str), user: maybe(stringOrInt) })),
  kubernetes: maybe(z.looseObject({ user: maybe(stringOrInt) })),
});

const image = z.looseObject({
  name: zero(str, ""), alias: maybe(str), command: maybe(strings), entrypoint: maybe(strings),
  ports: maybe(z.array(z.looseObject({ number: zero(int, 0), protocol: maybe(str), name: maybe(str) }))),
  pull_policy: maybe(z.array(z.enum(["always", "if-not-present", "never"]))),
  executor_opts: maybe(executorOptions),
  variables: maybe(z.array(z.looseObject({ key: str, value: str }))),
});

const step = z.looseObject({
  name: str, script: zero(strings, []), timeout: zero(int, 0),
  when: zero(z.enum(["on_success", "on_failure", "always"]), "on_success"), allow_failure: zero(z.boolean(), false),
});

const when = zero(z.enum(["on_success", "on_failure", "always", ""]), "on_success").transform((w) => w || "on_success");

const artifact = z.looseObject({
  name: zero(str, ""), untracked: maybe(z.boolean()), paths: zero(strings, []), exclude: maybe(strings), when,
  expire_in: maybe(str), artifact_type: zero(str, "archive"),
  artifact_format: zero(z.enum(["zip", "gzip", "raw", ""]), "zip").transform((f) => f || "zip"),
});

const cache = z.looseObject({
  key: zero(str, ""), untracked: maybe(z.boolean()), policy: zero(str, ""), paths: zero(strings, []), when,
  fallback_keys: maybe(strings),
});

const jobPayload = z.looseObject({
  id: int,
  token: str,
  allow_git_fetch: zero(z.boolean(), false),
  job_info: zero(z.looseObject({
    name: zero(str, ""), stage: zero(str, ""), project_id: zero(int, 0), project_name: zero(str, ""),
    id: maybe(int), pipeline_id: maybe(int), project_full_path: maybe(str),
  }), {}),
  git_info: zero(z.looseObject({
    repo_url: zero(str, ""), ref: zero(str, ""), sha: zero(str, ""), before_sha: zero(str, ""),
    ref_type: zero(z.enum(["branch", "tag", ""]), ""), refspecs: zero(strings, []), depth: zero(int, 0),
    repo_object_format: maybe(z.enum(["sha1", "sha256", ""])), protected: maybe(z.boolean()),
  }), {}),
  runner_info: zero(z.looseObject({ timeout: zero(int, 0), runner_session_url: maybe(str), uuid: maybe(str) }), {}),
  variables: zero(z.array(variable), []),
  steps: zero(z.array(step), []),
  image: maybe(image),
  services: maybe(z.array(image)),
  artifacts: maybe(z.array(artifact)),
  cache: maybe(z.array(cache)),
  credentials: maybe(z.array(z.looseObject({ type: zero(str, ""), url: zero(str, ""), username: zero(str, ""), password: zero(str, "") }))),
  dependencies: maybe(z.array(z.looseObject({
    id: int, name: zero(str, ""), token: zero(str, ""),
    artifacts_file: maybe(z.looseObject({ filename: zero(str, ""), size: zero(z.number(), 0) })),
  }))),
  features: zero(z.looseObject({
    trace_sections: zero(z.boolean(), false), token_mask_prefixes: maybe(strings), failure_reasons: maybe(strings),
  }), {}),
  secrets: maybe(z.record(str, z.unknown())),
  hooks: maybe(z.array(z.looseObject({ name: str, script: zero(strings, []) }))),
  inputs: maybe(z.array(z.unknown())),
  run: maybe(str),
  policy_options: maybe(z.record(str, z.unknown())),
  suspend_options: maybe(z.record(str, z.unknown())),
});

/** What the 201 body of `POST /jobs/request` turned out to be. */
export type PayloadCheck =
  | { readonly kind: "job"; readonly job: JobResponse }
  /** A job GitLab handed out but that cannot be run: it is failed with these reasons (id and token are known). */
  | { readonly kind: "invalid"; readonly id: number; readonly token: string; readonly problems: readonly string[] }
  /** Not even the job's id and token: nothing can be reported to GitLab. */
  | { readonly kind: "unreadable"; readonly problems: readonly string[] };

/** Checks a decoded job payload against GitLab Runner's rules (types, executor options, `run:`). */
export function checkJobPayload(value: unknown): PayloadCheck {
  const parsed = jobPayload.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`);
    const raw = value as { id?: unknown; token?: unknown } | null;
    if (raw && typeof raw === "object" && typeof raw.id === "number" && typeof raw.token === "string") {
      return { kind: "invalid", id: raw.id, token: raw.token, problems };
    }
    return { kind: "unreadable", problems };
  }
  const job = parsed.data as unknown as JobResponse;
  const problems = [...unsupportedOptions(job), ...stepsProblems(job), ...scriptProblems(job)];
  return problems.length > 0 ? { kind: "invalid", id: job.id, token: job.token, problems } : { kind: "job", job };
}

/** GitLab Runner's `UnsupportedOptions`: executor_opts keys it does not know, in its words. */
function unsupportedOptions(job: JobResponse): string[] {
  const out: string[] = [];
  for (const image of [job.image, ...(job.services ?? [])]) {
    const options = image?.executor_opts as Record<string, unknown> | undefined;
    if (!options) continue;
    const check = (given: Record<string, unknown>, supported: readonly string[], executor: string) => {
      const unknown = Object.keys(given).filter((k) => !supported.includes(k));
      if (unknown.length > 0) {
        out.push(`Unsupported "image" options [${unknown.join(" ")}] for "${executor}"; supported options are [${[...supported].sort().join(" ")}]`);
      }
    };
    check(options, Object.keys(SUPPORTED_EXECUTOR_OPTIONS), "executor_opts");
    for (const [executor, supported] of Object.entries(SUPPORTED_EXECUTOR_OPTIONS)) {
      const given = options[executor];
      if (given && typeof given === "object") check(given as Record<string, unknown>, supported, `${executor} executor`);
    }
  }
  return out;
}

/**
 * GitLab Runner's `ValidateStepsJobRequest`: a job with `run:` (CI steps) and no script. GitLab
 * Runner runs such jobs through its step-runner; this runner has none, so it fails them plainly.
 */
function stepsProblems(job: JobResponse): string[] {
  if (job.run === undefined || job.run === "") return [];
  let steps: unknown;
  try {
    steps = JSON.parse(job.run);
  } catch (error) {
    return [`run: not a JSON list of steps: ${error instanceof Error ? error.message : String(error)}`];
  }
  if (!Array.isArray(steps) || steps.length === 0) return Array.isArray(steps) ? [] : ["run: not a JSON list of steps"];
  if (job.steps.some((s) => s.script.length > 0)) return ["the `run` and `script` keywords cannot be used together"];
  if (job.variables.some((v) => v.key === "STEPS" && v.value !== "")) return ["the `run` keyword requires the exclusive use of the variable STEPS"];
  return ["the `run` keyword (CI steps) needs GitLab's step-runner, which this runner does not include: run the job on a GitLab Runner, or use `script`"];
}

/** A NUL in a script line: a shell would stop reading the line there, while the trace shows all of it. */
function scriptProblems(job: JobResponse): string[] {
  const out: string[] = [];
  job.steps.forEach((step, i) => step.script.forEach((line, j) => {
    if (line.includes("\0")) out.push(`steps[${i}].script[${j}]: contains a NUL character, which no shell can run`);
  }));
  return out;
}

function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out || "(the payload)";
}
