import { describe, expect, test } from "bun:test";
import { Command } from "@commander-js/extra-typings";
import { addOptionsIfUsed, type CommandContext } from "../../src/cli/commands/command-kit.ts";
import { executorFlagOptions } from "../../src/cli/commands/executor-flags.ts";
import { cacheFlagOptions } from "../../src/cli/commands/cache-flags.ts";

/** `runner exec` with the two groups added as main.ts's registration does, then parsed: the options seen, or commander's error. */
function parsed(argv: string[], env: Record<string, string> = {}): { registered: string[]; opts?: Record<string, unknown>; error?: string } {
  const ctx: CommandContext = { argv, env, say: () => {}, exit: () => {} };
  const program = new Command("runner").exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const exec = program.command("exec").argument("[jobs...]").option("--json").exitOverride();
  addOptionsIfUsed(exec, ctx, executorFlagOptions());
  addOptionsIfUsed(exec, ctx, cacheFlagOptions());
  let opts: Record<string, unknown> | undefined;
  exec.action((_jobs, o) => void (opts = o));
  const registered = exec.options.map((o) => o.long!).filter((l) => /^--(ssh|custom|cache)-/.test(l));
  const saved = { ...process.env };
  try {
    // commander reads an option's variable from process.env.
    Object.assign(process.env, env);
    program.parse(argv, { from: "user" });
    return { registered, ...(opts ? { opts } : {}) };
  } catch (error) {
    return { registered, error: (error as Error).message };
  } finally {
    for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
  }
}

describe("an option group is registered only when the command line may use it (command-kit.ts addOptionsIfUsed)", () => {
  test("a plain `exec` registers neither group, and parses", () => {
    const result = parsed(["exec", "--json", "build"]);
    expect(result.registered).toEqual([]);
    expect(result.opts).toMatchObject({ json: true });
  });

  test("a flag of a group registers that group, and only it", () => {
    const result = parsed(["exec", "--ssh-host", "build.example.com", "--ssh-port=2222"]);
    expect(result.registered).toContain("--ssh-host");
    expect(result.registered).toContain("--custom-run-exec");
    expect(result.registered.some((l) => l.startsWith("--cache-"))).toBe(false);
    expect(result.opts).toMatchObject({ sshHost: "build.example.com", sshPort: 2222 });
  });

  test("a mistyped flag of a group still gets commander's suggestion", () => {
    expect(parsed(["exec", "--cache-s3-bucket-nam", "b"]).error).toContain("Did you mean --cache-s3-bucket-name?");
  });

  test("a group's variable in the environment registers it, and its value is read", () => {
    const result = parsed(["exec"], { CACHE_S3_BUCKET_NAME: "shared-cache" });
    expect(result.registered).toContain("--cache-s3-bucket-name");
    expect(result.opts).toMatchObject({ cacheS3BucketName: "shared-cache" });
  });

  test("help, and a command line that is not this command's (help for all, completion), register every group", () => {
    expect(parsed(["exec", "--help"]).registered.length).toBe(executorFlagOptions().length + cacheFlagOptions().length);
    expect(parsed(["help", "exec"]).registered.length).toBe(executorFlagOptions().length + cacheFlagOptions().length);
  });
});
