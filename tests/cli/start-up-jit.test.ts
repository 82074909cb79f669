import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { normalJitAfterStartUp } from "../../src/cli/start-up-jit.ts";

// Bun's compile.jitPolicy (the executable's start-up tier-up scale) and Bun.unsafe.setJITPolicy(1),
// which its documentation says to call once the program is past its start-up.
describe("the normal JIT policy after start-up", () => {
  test("is set (scale 1) once the start-up time has passed, not before", async () => {
    const calls: number[] = [];
    normalJitAfterStartUp({ afterMs: 80, setPolicy: (scale) => calls.push(scale) });
    await Bun.sleep(20);
    expect(calls).toEqual([]);
    await Bun.sleep(150);
    expect(calls).toEqual([1]);
  });

  test("keeps no process alive while it waits", () => {
    const module = resolve(import.meta.dir, "../../src/cli/start-up-jit.ts");
    const started = performance.now();
    const child = Bun.spawnSync([process.execPath, "-e", `import(${JSON.stringify(module)}).then((m) => m.normalJitAfterStartUp({ afterMs: 30_000 }))`]);
    expect(child.exitCode).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test("the runtime's own setter accepts the normal scale", async () => {
    normalJitAfterStartUp({ afterMs: 1 });
    await Bun.sleep(20);
    expect(() => Bun.unsafe.setJITPolicy(1)).not.toThrow();
  });
});
