import type { RemoteProcess, RunRemote } from "./remote-process.ts";

/** What one command said: its output, its standard error and its exit code. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

const END = "\u0001";
const ERR = "\u0002";
const DONE = "\u0003";

/**
 * One `sh` on the host that runs the runner's small commands one after another, so that each costs
 * a write and a read on an open channel instead of a new session (a new exec channel costs ~110 ms
 * on OpenSSH here). Each command runs in a subshell with no standard input; its output, exit code
 * and standard error come back as `stdout \x01 code \x02 stderr \x03`.
 */
export class CommandShell {
  readonly #queue: { script: string; resolve: (r: CommandResult) => void; reject: (e: Error) => void }[] = [];
  #process: Promise<RemoteProcess> | undefined;
  #buffer = "";
  #busy = false;
  #gone: Error | undefined;

  constructor(private readonly run: RunRemote) {}

  exec(script: string): Promise<CommandResult> {
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => {
      this.#queue.push({ script, resolve, reject });
      void this.#next();
    });
  }

  close(): void {
    void this.#process?.then((p) => p.stdin.end()).catch(() => {});
  }

  #start(): Promise<RemoteProcess> {
    this.#process ??= this.run("exec sh").then((p) => {
      p.stdin.write(`e=\${TMPDIR:-/tmp}/runner-files-$$.err; trap 'rm -f "$e"' EXIT\n`);
      p.stdout.on("data", (chunk: Buffer) => this.#receive(chunk.toString("latin1")));
      p.stderr.resume();
      void p.exit.then(() => this.#fail(new Error("the host's shell for the runner's commands ended")));
      return p;
    });
    return this.#process;
  }

  async #next(): Promise<void> {
    if (this.#busy || this.#queue.length === 0) return;
    this.#busy = true;
    try {
      const p = await this.#start();
      const { script } = this.#queue[0]!;
      p.stdin.write(`( ${script}\n) </dev/null 2>"$e"; printf '${END}%d${ERR}' $?; cat "$e"; printf '${DONE}'\n`);
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #receive(text: string): void {
    this.#buffer += text;
    for (;;) {
      const done = this.#buffer.indexOf(DONE);
      if (done < 0) return;
      const whole = this.#buffer.slice(0, done);
      this.#buffer = this.#buffer.slice(done + 1);
      const end = whole.lastIndexOf(END);
      const err = whole.indexOf(ERR, end);
      const decode = (s: string) => Buffer.from(s, "latin1").toString("utf8");
      const result = { stdout: decode(whole.slice(0, end)), code: Number(whole.slice(end + 1, err)), stderr: decode(whole.slice(err + 1)) };
      this.#busy = false;
      this.#queue.shift()?.resolve(result);
      void this.#next();
    }
  }

  #fail(error: Error): void {
    this.#gone ??= error;
    for (const waiting of this.#queue.splice(0)) waiting.reject(this.#gone);
  }
}
