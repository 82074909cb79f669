/**
 * The executable starts with JavaScriptCore's tier-up thresholds scaled up (scripts/build.ts,
 * `compile.jitPolicy`): most of a command's code runs once, and on two cores the JIT's compiler
 * threads competed with the job's shells for it. A run that lasts past its start-up — a daemon, a
 * long job whose output goes through the masker — gets the normal policy back after
 * `afterMs`. The timer keeps no process alive.
 */
export function normalJitAfterStartUp(options: { afterMs?: number; setPolicy?: (scale: number) => void } = {}): void {
  const setPolicy = options.setPolicy ?? ((scale: number) => Bun.unsafe.setJITPolicy(scale));
  setTimeout(() => setPolicy(1), options.afterMs ?? START_UP_MS).unref();
}

/** How long a command's start-up is taken to last. */
export const START_UP_MS = 1000;
