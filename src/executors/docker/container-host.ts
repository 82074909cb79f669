import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { nodeStream } from "../../node-stream.ts";
import { ChildOutput } from "../../shell/child-output.ts";
import { localProcessGroup } from "../../shell/process-group.ts";
import type { BuildFiles } from "../build-files.ts";
import { serveFiles } from "../file-service/file-server.ts";
import { FrameReader, STAGE_FRAME, frame, isFileFrame, type FrameKind } from "../file-service/frames.ts";
import { FRAMES_FOLLOW, STAGE_DIR, serveGreeting } from "./stage-server.ts";

/** How long a stage's pipes may stay silent and open after its shell and group are gone (a stray in a session of its own holds them). */
const STRAY_PIPE_MS = 100;

/**
 * `runner helper serve`: a job container's first process when the runner's tools volume is mounted
 * in it (job-containers.ts), in place of the POSIX-sh stage server. It says which shell the image
 * has and who it runs as, then, once the runner says frames follow, serves the container's files
 * (file-server.ts) and runs each stage the runner names — a fresh shell in a session of its own,
 * as the sh server starts them — on the one attach stream, in frames (frames.ts). The runner needs
 * no exec to reach the files: an exec costs the engine ~50-70 ms, this process starts with the
 * container. Resolves when the runner says `exit` or the stream ends.
 */
export function hostContainer(files: BuildFiles, input: Readable, output: Writable): Promise<void> {
  const shell = Bun.which("bash") ? ["bash", "--norc", "--noprofile"] : ["sh"];
  const setsid = Bun.which("setsid");
  // As root it makes the stage directory (others may enter it, not list it), without what a killed run left there.
  if (process.getuid?.() === 0) {
    rmSync(STAGE_DIR, { recursive: true, force: true });
    mkdirSync(STAGE_DIR, { recursive: true });
    chmodSync(STAGE_DIR, 0o711);
  }
  output.write(serveGreeting(shell[0] === "bash" ? "bash" : "sh", process.getuid?.() ?? 0, process.getgid?.() ?? 0));
  const fileInput = new (nodeStream().PassThrough)();
  void serveFiles(files, fileInput, output);
  const reader = new FrameReader();
  let synced = false;
  let before = "";
  let stages = Promise.resolve();
  return new Promise((resolve) => {
    const stop = () => {
      fileInput.end();
      resolve();
    };
    input.on("data", (chunk: Buffer) => {
      if (!synced) {
        // Whatever came on stdin before the runner knew it speaks to this server (a line end, an
        // engine's attach body) is skipped up to the runner's word that frames follow.
        before += chunk.toString("latin1");
        const at = before.indexOf(FRAMES_FOLLOW);
        if (at < 0) return void (before = before.slice(-FRAMES_FOLLOW.length));
        synced = true;
        chunk = Buffer.from(before.slice(at + FRAMES_FOLLOW.length), "latin1");
        before = "";
      }
      for (const f of reader.push(chunk)) {
        if (isFileFrame(f.kind)) {
          // The file server is slower than the wire (a file being written): the wire waits.
          if (!fileInput.write(frame(f.kind, f.id, f.payload))) {
            input.pause();
            fileInput.once("drain", () => input.resume());
          }
        } else if (f.kind === STAGE_FRAME.run) {
          const stage = JSON.parse(f.payload.toString()) as { id: string; script: string | null };
          stages = stages.then(() => runStage(f.id, stage, [...(setsid ? [setsid] : []), ...shell], output));
        } else if (f.kind === STAGE_FRAME.exit) stop();
      }
    });
    input.on("end", stop);
    input.on("close", stop);
  });
}

/**
 * One stage: its script written to `<id>.sh`, readable by this user only (it holds the job's
 * variables); `<shell> -c 'eval "$(cat <id>.sh)"'` with no stdin, its pid written to `<id>.pid`
 * (the runner's cancel stops its group by it), its output sent in frames of its turn; when its
 * shell exits, what it left in its group is killed, both files are removed, and its end is sent
 * with the exit code.
 */
async function runStage(turn: number, { id, script }: { id: string; script: string | null }, shell: string[], output: Writable): Promise<void> {
  let lastSent = performance.now();
  let waiting = 0;
  const send = async (kind: FrameKind, payload: Uint8Array) => {
    if (!output.write(frame(kind, turn, payload))) {
      waiting++;
      await new Promise((drained) => output.once("drain", drained));
      waiting--;
    }
    lastSent = performance.now();
  };
  if (!/^[0-9a-f]+$/.test(id)) return void (await send(STAGE_FRAME.end, u32(127)));
  const path = `${STAGE_DIR}/${id}`;
  try {
    if (script !== null) writeFileSync(`${path}.sh`, script, { mode: 0o600 });
  } catch (error) {
    await send(STAGE_FRAME.stderr, Buffer.from(`runner helper serve: the stage's script cannot be written: ${(error as Error).message}\n`));
    return void (await send(STAGE_FRAME.end, u32(1)));
  }
  // Pipes, not Bun's sockets, as Docker gives a container's process: `> /dev/stdout` works (child-output.ts).
  const stageOutput = new ChildOutput({ shared: false });
  const child = stageOutput.spawn([...shell, "-c", `eval "$(cat ${path}.sh)"`], { stdin: "ignore" });
  try {
    writeFileSync(`${path}.pid`, `${child.pid}\n`, { mode: 0o600 });
  } catch {
    // Not there and not ours to make (the runner makes it for a user other than root): cancel then stops the stage by its shell alone.
  }
  const pump = async (from: ReadableStream<Uint8Array>, kind: FrameKind) => {
    for await (const chunk of from) await send(kind, chunk);
  };
  let pumping = true;
  const streams = stageOutput.streams(child);
  const pumped = Promise.all([pump(streams.stdout, STAGE_FRAME.stdout), streams.stderr && pump(streams.stderr, STAGE_FRAME.stderr)]).finally(() => {
    pumping = false;
    stageOutput.close();
  });
  await child.exited;
  const code = child.exitCode ?? 128 + (constants.signals[child.signalCode as keyof typeof constants.signals] ?? 0);
  // What the stage left in its session (its shell leads it) is killed with it.
  if (shell[0]?.endsWith("setsid")) void localProcessGroup(child.pid).signal("KILL");
  // Every byte the stage wrote is sent before its end; only pipes a stray keeps open and silent are left.
  while (pumping && (waiting > 0 || performance.now() - lastSent < STRAY_PIPE_MS)) await Promise.race([pumped, Bun.sleep(STRAY_PIPE_MS)]);
  // The runner removes what it wrote for another user.
  if (script !== null) {
    rmSync(`${path}.sh`, { force: true });
    rmSync(`${path}.pid`, { force: true });
  }
  await send(STAGE_FRAME.end, u32(code));
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}
