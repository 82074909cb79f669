import type { Duplex } from "node:stream";
import { nodeStream } from "../../node-stream.ts";
import type { ShellName } from "../../shell/shell-writer.ts";
import type { OutputWriter } from "../../trace/job-trace.ts";
import { remoteFiles, type RemoteFiles } from "../file-service/file-client.ts";
import { FrameReader, STAGE_FRAME, frame, isFileFrame, type Frame } from "../file-service/frames.ts";
import { holdProcess } from "./stream-hold.ts";

/** Where stage scripts are put for the stage server, on the build volume (names are random ids). */
export const STAGE_DIR = "/builds/.runner-stages";

/** What the runner writes once it knows `runner helper serve` answers: from here on, stdin is frames. */
export const FRAMES_FOLLOW = "\nrunner-frames-follow\n";

/** What `runner helper serve` says first (the sh server's greeting, and that it serves frames). */
export function serveGreeting(shell: ShellName, uid: number, gid: number): string {
  return `runner-shell=${shell} runner-user=${uid}:${gid} runner-serve=frames\n`;
}

const GREETING = /runner-shell=(bash|sh)(?: runner-user=(\d*):(\d*))?( runner-serve=frames)?\n/;

/**
 * A job container's command: `runner helper serve` from the tools volume when the volume is
 * mounted and complete (`serve`, a shell command), else the POSIX-sh stage server below. The shell
 * stays the container's first process, so that what stages leave behind is reaped.
 */
export function serverCommand(serve?: { readonly complete: string; readonly command: string }): string[] {
  if (!serve) return SERVER_COMMAND;
  return ["sh", "-c", `if [ -f ${serve.complete} ]; then ${serve.command}; exit $?; fi\n${SERVER_COMMAND[2]}`];
}

/**
 * The command a job's containers run: a small POSIX-sh server that keeps the container alive and
 * starts each stage as a fresh shell process (its own session and process group, via setsid where
 * the image has it) when the runner names the stage's script on its stdin. It says first which
 * shell the image has; after each stage it writes an end marker with the exit code to stdout and
 * stderr. Starting a process this way costs a fork, where an exec through the engine costs tens of
 * milliseconds.
 */
export const SERVER_COMMAND = [
  "sh", "-c",
  [
    `d=${STAGE_DIR}`,
    // Who the stages run as: the runner writes their scripts readable by that user only.
    `u=$(id -u 2>/dev/null):$(id -g 2>/dev/null)`,
    `if command -v bash >/dev/null 2>&1; then s="bash --norc --noprofile"; echo "runner-shell=bash runner-user=$u"; else s=sh; echo "runner-shell=sh runner-user=$u"; fi`,
    `if command -v setsid >/dev/null 2>&1; then g=setsid; else g=; fi`,
    `trap 'exit 0' TERM INT`,
    `while IFS= read -r id; do`,
    // Only stage ids (hex), and `exit` at the job's end; anything else on the line (Podman passes the attach request's body on) is skipped.
    `  case "$id" in exit) exit 0;; ""|*[!0-9a-f]*) continue;; esac`,
    `  ( exec $g $s -c "eval \\"\\$(cat $d/$id.sh)\\"" ) </dev/null &`,
    `  p=$!; echo $p > $d/$id.pid`,
    `  wait $p; c=$?`,
    // What the stage left running in its group is stopped with it.
    `  [ -n "$g" ] && kill -KILL -- -$p 2>/dev/null`,
    `  printf '\\001runner-stage-end %s %s\\001' "$id" "$c"`,
    `  printf '\\001runner-stage-end %s\\001' "$id" >&2`,
    `done`,
  ].join("\n"),
];

interface RunningStage {
  readonly id: string;
  /** Its turn on a frames stream. */
  readonly turn: number;
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
  exitCode?: number;
  stderrEnded: boolean;
  readonly done: (exitCode: number) => void;
  readonly failed: (error: Error) => void;
}

/** What a container's stage server says first: its shell, and the user its stages run as. */
export interface ServerGreeting {
  readonly shell: ShellName;
  /** `uid:gid`, when the image has `id`. */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** `runner helper serve` answers: its stages and the container's files come in frames on this stream. */
  readonly serves?: true;
}

/**
 * The runner's end of one container's stage server, over the container's attach stream: the sh
 * server's lines and end markers, or `runner helper serve`'s frames, which carry the container's
 * files too (`files()`).
 */
export class StageServer {
  #current: RunningStage | undefined;
  #shell: Promise<ServerGreeting>;
  #announce!: (greeting: ServerGreeting) => void;
  #closed: Error | undefined;
  #mode: "greeting" | "markers" | "frames" = "greeting";
  #greeting = "";
  #turns = 0;
  #holds = 0;
  #idle = false;
  #root = false;
  /** What the container said on stderr while no stage ran (the last 2 KB): why it stopped, if it did. */
  #unclaimed = "";
  readonly #frames = new FrameReader();
  readonly #fileInput = new (nodeStream().PassThrough)();
  readonly #stdout: MarkerSplitter;
  readonly #stderr: MarkerSplitter;

  constructor(private readonly stream: Duplex) {
    this.#shell = new Promise((resolve) => (this.#announce = resolve));
    this.#stdout = new MarkerSplitter((bytes) => this.#current?.stdout.write(bytes), (marker) => this.#marker(marker, "stdout"));
    this.#stderr = new MarkerSplitter((bytes) => this.#onStderr(bytes), (marker) => this.#marker(marker, "stderr"));
    demux(stream, (b) => this.#onStdout(b), (b) => (this.#mode === "frames" ? this.#onStderr(b) : this.#stderr.push(b)));
    // Ends whatever came before on the server's stdin, so the first stage's id is a line of its own.
    stream.write("\n");
    const close = () => {
      this.#closed ??= new Error("the container's stage server is gone (the container stopped)");
      this.#current?.failed(this.#closed);
      this.#current = undefined;
      this.#fileInput.destroy();
    };
    stream.on("end", close);
    stream.on("close", close);
    stream.on("error", close);
  }

  /** The shell the image has and its user, once the server has said so; undefined when it has not yet. */
  greeting(timeoutMs: number): Promise<ServerGreeting | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    return Promise.race([this.#shell, late]).finally(() => clearTimeout(timer));
  }

  /** What the container wrote to stderr outside any stage (an entrypoint's or a server's complaint). */
  lastWords(): string {
    return this.#unclaimed.trim();
  }

  /**
   * The container's files, served on this stream by `runner helper serve` as the container's user;
   * undefined when the sh server answers (an exec then serves them).
   */
  files(describe: string): RemoteFiles | undefined {
    if (this.#mode !== "frames") return undefined;
    const stream = this.stream;
    // Ending the file client's output must not end the stream the stages share.
    const output = new (nodeStream().Writable)({ write: (chunk: Buffer, _encoding, done) => (stream.write(chunk) ? done() : stream.once("drain", () => done())) });
    return remoteFiles(this.#fileInput, output, describe, (busy) => this.#hold(busy));
  }

  /**
   * Whether the server writes each stage's script itself, given it with the stage: `runner helper
   * serve` as root (the stage directory is root's; another user's scripts are written for it).
   */
  get writesScripts(): boolean {
    return this.#mode === "frames" && this.#root;
  }

  /**
   * Runs stage `id` and resolves with its exit code: its `script` is written to `STAGE_DIR/<id>.sh`
   * by the server when it writes scripts, else it must be there already.
   */
  run(id: string, output: { stdout: OutputWriter; stderr: OutputWriter }, script?: string): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#hold(true);
    return new Promise<number>((resolve, reject) => {
      const turn = ++this.#turns;
      this.#current = { id, turn, ...output, stderrEnded: false, done: resolve, failed: reject };
      this.stream.write(this.#mode === "frames" ? frame(STAGE_FRAME.run, turn, Buffer.from(JSON.stringify({ id, script: script ?? null }))) : `${id}\n`);
    }).finally(() => this.#hold(false));
  }

  /** From now on the connection keeps the runner's process alive only while a stage runs or a file call waits. */
  idle(): void {
    this.#idle = true;
    holdProcess(this.stream, this.#holds > 0);
  }

  #hold(on: boolean): void {
    this.#holds += on ? 1 : -1;
    holdProcess(this.stream, this.#holds > 0 || !this.#idle);
  }

  close(): void {
    this.stream.destroy();
  }

  /** Ends the server, and with it the container (its main process), then closes the connection. */
  shutdown(): void {
    if (!this.#closed && !this.stream.destroyed) this.stream.write(this.#mode === "frames" ? frame(STAGE_FRAME.exit, 0) : "exit\n");
    this.close();
  }

  #onStdout(bytes: Buffer): void {
    if (this.#mode === "markers") return this.#stdout.push(bytes);
    if (this.#mode === "frames") return void this.#frames.push(bytes).forEach((f) => this.#onFrame(f));
    this.#greeting += bytes.toString("latin1");
    const found = GREETING.exec(this.#greeting);
    if (!found) return;
    const [said, shell, uid, gid, serves] = found;
    const rest = Buffer.from(this.#greeting.slice(found.index + said.length), "latin1");
    this.#greeting = "";
    this.#mode = serves ? "frames" : "markers";
    this.#root = uid === "0";
    if (serves) this.stream.write(FRAMES_FOLLOW);
    this.#announce({
      shell: shell as ShellName, ...(uid && gid ? { user: { uid: Number(uid), gid: Number(gid) } } : {}), ...(serves ? { serves: true } : {}),
    });
    if (rest.length > 0) this.#onStdout(rest);
  }

  #onStderr(bytes: Buffer): void {
    if (this.#current) return this.#current.stderr.write(bytes);
    this.#unclaimed = (this.#unclaimed + bytes.toString()).slice(-2048);
  }

  #onFrame(f: Frame): void {
    if (isFileFrame(f.kind)) return void this.#fileInput.write(frame(f.kind, f.id, f.payload));
    const stage = this.#current;
    // What a stage's stray wrote after its end is not the next stage's.
    if (!stage || stage.turn !== f.id) return;
    if (f.kind === STAGE_FRAME.stdout) stage.stdout.write(f.payload);
    else if (f.kind === STAGE_FRAME.stderr) stage.stderr.write(f.payload);
    else if (f.kind === STAGE_FRAME.end) {
      this.#current = undefined;
      stage.done(f.payload.readUInt32BE(0));
    }
  }

  #marker(marker: string, from: "stdout" | "stderr"): void {
    const stage = this.#current;
    const [, id, code] = /^runner-stage-end (\S+)(?: (\d+))?$/.exec(marker) ?? [];
    if (!stage || id !== stage.id) return;
    if (from === "stdout") stage.exitCode = Number(code);
    else stage.stderrEnded = true;
    if (stage.exitCode !== undefined && stage.stderrEnded) {
      this.#current = undefined;
      stage.done(stage.exitCode);
    }
  }
}

/** Splits a byte stream into data and `\x01…\x01` markers, a marker split across chunks included. */
export class MarkerSplitter {
  #held: Buffer = Buffer.alloc(0);

  constructor(private readonly onData: (bytes: Buffer) => void, private readonly onMarker: (marker: string) => void) {}

  push(chunk: Buffer): void {
    let buffer = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = Buffer.alloc(0);
    for (;;) {
      const start = buffer.indexOf(1);
      if (start < 0) break;
      const end = buffer.indexOf(1, start + 1);
      const candidate = buffer.subarray(start + 1, end < 0 ? buffer.length : end).toString("latin1");
      if (!"runner-stage-end ".startsWith(candidate.slice(0, 17)) || candidate.length > 120) {
        // A \x01 of the job's own output: pass it on.
        this.onData(buffer.subarray(0, start + 1));
        buffer = buffer.subarray(start + 1);
        continue;
      }
      if (end < 0) {
        if (start > 0) this.onData(buffer.subarray(0, start));
        this.#held = Buffer.from(buffer.subarray(start));
        return;
      }
      if (start > 0) this.onData(buffer.subarray(0, start));
      this.onMarker(candidate);
      buffer = buffer.subarray(end + 1);
    }
    if (buffer.length > 0) this.onData(buffer);
  }
}

/** The attach stream of a container without a TTY: 8-byte headers (stream, size) before each frame. */
function demux(stream: Duplex, stdout: (b: Buffer) => void, stderr: (b: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size);
      (pending[0] === 2 ? stderr : stdout)(payload);
      pending = pending.subarray(8 + size);
    }
  });
}
