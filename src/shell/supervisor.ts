import { constants } from "node:os";
import { ChildOutput } from "./child-output.ts";
import { processTable } from "./process-table.ts";
import { localProcessGroup, stopProcessGroup } from "./process-group.ts";

/** How a supervised process ended. */
export interface ProcessResult {
  /** The exit code, or 128 + the signal number when a signal ended it. */
  readonly exitCode: number;
  /** The signal that ended it, if any. */
  readonly signal: string | undefined;
  /** Whether `signal` in the options was aborted while it ran. */
  readonly interrupted: boolean;
}

/** Where and with what environment a process starts. */
export interface SpawnOptions {
  readonly cwd?: string;
  /** The complete environment of the child; nothing of the runner's own is added. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Whether standard error is standard output's pipe (child-output.ts), as GitLab Runner's shell
   * executor gives both to one writer; `onStderr` is then never called. Default: a pipe each.
   */
  readonly sharedOutput?: boolean;
}

/** What a started process is given to run, and how it is stopped. */
export interface RunOptions {
  readonly stdin?: string;
  readonly onStdout?: (chunk: Uint8Array) => void;
  readonly onStderr?: (chunk: Uint8Array) => void;
  /** Aborting it stops the whole process group: TERM, then KILL after `graceMs`. */
  readonly signal?: AbortSignal;
  /** How long the group has to exit after TERM before it is killed (default 5000 ms). */
  readonly graceMs?: number;
  /**
   * Stops what the process started outside its group (`setsid`): called once the group is stopped,
   * after the leader's exit or on abort, before the output is drained.
   */
  readonly stopStrays?: () => Promise<unknown>;
  /**
   * How long the output may still be read once the leader and its group are gone (default 1000 ms).
   * A process that escaped every tracking can hold a pipe open for ever; the run ends anyway.
   */
  readonly drainMs?: number;
  /**
   * Leaves what the process started in its group running once it exits (a custom executor's driver
   * may start its environment in the background); abort still stops the whole group.
   */
  readonly leaveGroupOnExit?: boolean;
}

export type SuperviseOptions = SpawnOptions & RunOptions;

/**
 * A process started in a process group of its own, waiting for its standard input. Starting it
 * early lets its start-up overlap other work; `run` then feeds it and supervises it to the end.
 */
export interface StartedProcess {
  run(options: RunOptions): Promise<ProcessResult>;
  /** Stops a process that will not be run after all. */
  discard(): Promise<void>;
  readonly pid: number;
}

/** Starts `argv` in a process group of its own, its standard input kept open for `run`. */
export function startProcess(argv: readonly string[], options: SpawnOptions): StartedProcess {
  const output = new ChildOutput({ shared: options.sharedOutput ?? false });
  const child: Child = output.spawn(argv, { cwd: options.cwd, env: { ...options.env }, stdin: "pipe", detached: true });
  const pgid = child.pid;
  return {
    pid: child.pid,
    run: (runOptions) => runStarted(child, pgid, output, runOptions),
    async discard() {
      closeStdin(child);
      await stopGroup(pgid, 200);
      await child.exited;
      output.close();
    },
  };
}

/**
 * Runs `argv` in a process group of its own, drains both output streams, and stops the group on
 * abort. When the leader exits, whatever it left running in its group is stopped too, so no
 * process outlives its stage.
 */
export function supervise(argv: readonly string[], options: SuperviseOptions): Promise<ProcessResult> {
  return startProcess(argv, options).run(options);
}

type Child = Bun.Subprocess<"pipe", "pipe" | number, "pipe" | number>;

async function runStarted(child: Child, pgid: number, output: ChildOutput, options: RunOptions): Promise<ProcessResult> {
  const graceMs = options.graceMs ?? 5000;
  try {
    if (options.stdin !== undefined) child.stdin.write(options.stdin);
  } catch {
    // The child exited before reading its input; its exit status tells the rest.
  }
  closeStdin(child);
  let interrupted = false;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopGroup(pgid, graceMs).then(async () => void (await options.stopStrays?.())));
  const onAbort = () => {
    interrupted = true;
    void stop();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  const giveUp = new AbortController();
  try {
    const streams = output.streams(child);
    const drained = Promise.all([
      drain(streams.stdout, options.onStdout, giveUp.signal),
      streams.stderr && drain(streams.stderr, options.onStderr, giveUp.signal),
    ]).finally(() => output.close());
    await child.exited;
    // Leftovers of the stage (background jobs) would otherwise hold the pipes open and linger.
    if (options.leaveGroupOnExit && !interrupted) await settleWithin(drained, options.drainMs ?? 1000);
    else await stop();
    await settleWithin(drained, options.drainMs ?? 1000);
  } finally {
    giveUp.abort();
    options.signal?.removeEventListener("abort", onAbort);
  }
  const code = child.signalCode;
  const signal = typeof code === "number" ? signalName(code) : (code ?? undefined);
  const exitCode = child.exitCode ?? 128 + signalNumber(signal);
  return { exitCode, signal, interrupted };
}

function closeStdin(child: Child): void {
  try {
    void child.stdin.end();
  } catch {
    // Already closed.
  }
}

/** Reads `stream` to its end, or until `stop` aborts (a stray process holds the pipe open). */
async function drain(stream: ReadableStream<Uint8Array>, onChunk: ((chunk: Uint8Array) => void) | undefined, stop: AbortSignal): Promise<void> {
  const reader = stream.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  stop.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onChunk?.(value);
    }
  } catch {
    // Canceled.
  } finally {
    stop.removeEventListener("abort", cancel);
  }
}

/** Waits for `promise`, but no longer than `ms`. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** TERM the group, wait up to `graceMs` for it to be gone, then KILL it (process-group.ts). */
function stopGroup(pgid: number, graceMs: number): Promise<void> {
  return stopProcessGroup(localProcessGroup(pgid), { graceMs });
}

/** The pids in process group `pgid` that are not zombies. */
export function livingMembers(pgid: number): number[] {
  return processTable().groupMembers(pgid);
}

function signalName(num: number): string | undefined {
  return Object.entries(constants.signals).find(([, n]) => n === num)?.[0];
}

function signalNumber(signal: string | undefined): number {
  if (!signal) return 0;
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
