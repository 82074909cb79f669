const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

/**
 * The live status line at the bottom of a terminal: a spinner, the jobs running and the time since
 * the run began. Job output is printed above it: the line is cleared, the output written, the line
 * drawn again. Only for terminals; elsewhere output stays plain lines.
 */
export class StatusLine {
  readonly #write: (text: string) => void;
  readonly #running = new Set<string>();
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;
  #frame = 0;
  #shown = false;

  constructor(write: (text: string) => void) {
    this.#write = write;
    this.#timer = setInterval(() => this.#draw(), 100);
    this.#timer.unref();
  }

  /** Prints output above the status line. */
  print(text: string): void {
    this.#clear();
    this.#write(text);
    this.#draw();
  }

  jobStarted(name: string): void {
    this.#running.add(name);
    this.#draw();
  }

  jobFinished(name: string): void {
    this.#running.delete(name);
    this.#draw();
  }

  /** Removes the line for good. */
  stop(): void {
    clearInterval(this.#timer);
    this.#clear();
  }

  #clear(): void {
    if (this.#shown) this.#write("\r\x1b[2K");
    this.#shown = false;
  }

  #draw(): void {
    this.#clear();
    if (this.#running.size === 0) return;
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const names = [...this.#running].join(", ");
    const width = Math.max(20, (process.stdout.columns || 80) - 1);
    const line = `${FRAMES[this.#frame++ % FRAMES.length]} ${this.#running.size} running: ${names} · ${seconds}s`;
    this.#write(`\x1b[2m${line.slice(0, width)}\x1b[0m`);
    this.#shown = true;
  }
}
