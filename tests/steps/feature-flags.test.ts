import { describe, expect, test } from "bun:test";
import { FEATURE_FLAGS } from "../../src/job/feature-flag-table.ts";
import { resolveFeatureFlags } from "../../src/job/feature-flags.ts";
import { makeJob, runShellJob, variable } from "../helpers/job.ts";

const vars = (entries: Record<string, string>) => Object.entries(entries).map(([key, value]) => ({ key, value }));

// GitLab Runner's populateFeatureFlags (common/build_settings.go) and getFeatureFlagInfo /
// printRunningWithHeader (common/build.go); the flags and their defaults are
// helpers/featureflags/flags.go's.
describe("feature flags, resolved as GitLab Runner resolves them", () => {
  test("defaults: no header line, no warning, every flag a variable with its default", () => {
    const flags = resolveFeatureFlags({}, []);
    expect(flags.header).toBeUndefined();
    expect(flags.warnings).toEqual([]);
    expect(flags.on("FF_TIMESTAMPS")).toBe(true);
    expect(flags.on("FF_SCRIPT_SECTIONS")).toBe(false);
    expect(flags.variables).toHaveLength(FEATURE_FLAGS.length);
    expect(flags.variables.find((v) => v.key === "FF_MASK_ALL_DEFAULT_TOKENS")?.value).toBe("true");
  });

  test("a job variable takes Go's booleans (1, t, TRUE…) and the header names flags off their default, in GitLab Runner's order", () => {
    const flags = resolveFeatureFlags({}, vars({ FF_TIMESTAMPS: "0", FF_SCRIPT_SECTIONS: "1", FF_NETWORK_PER_BUILD: "TRUE" }));
    expect(flags.on("FF_SCRIPT_SECTIONS")).toBe(true);
    expect(flags.on("FF_TIMESTAMPS")).toBe(false);
    expect(flags.header).toBe("FF_NETWORK_PER_BUILD:true, FF_SCRIPT_SECTIONS:true, FF_TIMESTAMPS:false");
  });

  test("[runners.feature_flags] beat the job's variables; the last variable of a name wins", () => {
    const flags = resolveFeatureFlags({ FF_SCRIPT_SECTIONS: false }, [
      ...vars({ FF_SCRIPT_SECTIONS: "true", FF_TIMESTAMPS: "true" }), ...vars({ FF_TIMESTAMPS: "false" }),
    ]);
    expect(flags.on("FF_SCRIPT_SECTIONS")).toBe(false);
    expect(flags.on("FF_TIMESTAMPS")).toBe(false);
  });

  test("a value that is no boolean keeps the default and is warned about in GitLab Runner's words", () => {
    const flags = resolveFeatureFlags({}, vars({ FF_SCRIPT_SECTIONS: "yes" }));
    expect(flags.on("FF_SCRIPT_SECTIONS")).toBe(false);
    expect(flags.warnings).toEqual(["FF_SCRIPT_SECTIONS: could not parse feature flag, expected bool, got yes"]);
  });

  test("an unknown flag, one the runner cannot honour and one for another executor are each named, never taken silently", () => {
    const flags = resolveFeatureFlags({ FF_NO_SUCH_FLAG: true }, vars({
      FF_USE_FASTZIP: "true", FF_PRINT_POD_EVENTS: "true", FF_ALSO_UNKNOWN: "1", FF_USE_NEW_BASH_EVAL_STRATEGY: "true",
    }));
    expect(flags.warnings).toEqual([
      "FF_USE_FASTZIP=true is not supported by this runner, which behaves as FF_USE_FASTZIP=false: archives are written by the runner's own zip writer",
      "FF_PRINT_POD_EVENTS=true has no effect in this runner: it is for the kubernetes executor",
      "FF_NO_SUCH_FLAG is not a GitLab Runner feature flag; it has no effect",
      "FF_ALSO_UNKNOWN is not a GitLab Runner feature flag; it has no effect",
    ]);
  });

  test("a flag set to what the runner does anyway says nothing", () => {
    expect(resolveFeatureFlags({ FF_USE_FASTZIP: false, FF_SKIP_NOOP_BUILD_STAGES: true }, vars({ FF_KUBERNETES_HONOR_ENTRYPOINT: "false" })).warnings).toEqual([]);
  });
});

describe("feature flags in a job's trace and scripts", () => {
  test("the header carries the feature flags line after the runner line, and warnings follow it", async () => {
    const job = makeJob(["true"], { variables: [variable("GIT_STRATEGY", "none"), variable("FF_SCRIPT_SECTIONS", "true"), variable("FF_USE_FASTZIP", "1")] });
    const { trace } = await runShellJob(job);
    const lines = trace.split("\n");
    expect(lines[1]).toBe("  on test runner");
    expect(lines[2]).toBe("  feature flags: FF_USE_FASTZIP:true, FF_SCRIPT_SECTIONS:true");
    expect(lines[3]).toStartWith("WARNING: FF_USE_FASTZIP=true is not supported by this runner");
  });

  test("scripts see every flag with the value the runner took, config over the job's variable", async () => {
    const job = makeJob(['echo "sections=$FF_SCRIPT_SECTIONS timestamps=$FF_TIMESTAMPS"'], {
      variables: [variable("GIT_STRATEGY", "none"), variable("FF_SCRIPT_SECTIONS", "true")],
    });
    const { trace } = await runShellJob(job, { featureFlags: { FF_SCRIPT_SECTIONS: false } });
    expect(trace).toContain("\nsections=false timestamps=true\n");
    expect(trace).not.toContain("feature flags:");
  });

  test("FF_SCRIPT_SECTIONS: a multi-line command of the job is a collapsed section script_step_<i>", async () => {
    const script = ["echo first", "echo two &&\n  echo three"];
    const on = await runShellJob(makeJob(script, { variables: [variable("GIT_STRATEGY", "none"), variable("FF_SCRIPT_SECTIONS", "true")] }));
    expect(on.raw).toMatch(/section_start:\d+:section_script_step_1\[hide_duration=true,collapsed=true\]\r\x1b\[0K\x1b\[32;1m\$ echo two &&\n {2}echo three\x1b\[0;m\n/);
    expect(on.raw).toMatch(/section_end:\d+:section_script_step_1\r\x1b\[0K\n/);
    const off = await runShellJob(makeJob(script));
    expect(off.raw).not.toContain("section_script_step");
    expect(off.trace).toContain("$ echo two && # collapsed multi-line command\n");
  });

  test("FF_MASK_ALL_DEFAULT_TOKENS=false masks glpat- only of GitLab's default prefixes", async () => {
    const script = ["echo glpat-abcdefghij1234567890 gldt-abcdefghij1234567890"];
    const all = await runShellJob(makeJob(script));
    expect(all.trace).toContain("glpat-[MASKED] gldt-[MASKED]");
    const few = await runShellJob(makeJob(script, { variables: [variable("GIT_STRATEGY", "none"), variable("FF_MASK_ALL_DEFAULT_TOKENS", "false")] }));
    expect(few.trace).toContain("glpat-[MASKED] gldt-abcdefghij1234567890");
  });
});
