import { ANSI_ESCAPE } from "./ansi.ts";
import type { TraceSink, TraceStream } from "./job-trace.ts";

const SECTION_MARKER = /section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]\r\n]*\])?\r\x1b\[0K/g;
const MAX_PENDING = 8192;

/**
 * Renders a job trace for a person at a terminal: whole lines only, section markers removed, colours
 * kept or stripped, and each line prefixed (with the job's name when several jobs share the screen).
 */
export class TerminalSink implements TraceSink {
  readonly #pending = new Map<string, string>();
  readonly #decoders = new Map<string, TextDecoder>();
  readonly #print: (text: string) => void;
  readonly #prefix: string;
  readonly #color: boolean;

  constructor(options: { print: (text: string) => void; prefix?: string; color: boolean }) {
    this.#print = options.print;
    this.#prefix = options.prefix ?? "";
    this.#color = options.color;
  }

  write(bytes: Uint8Array, stream: TraceStream): void {
    const key = `${stream.id}${stream.type}`;
    let decoder = this.#decoders.get(key);
    if (!decoder) this.#decoders.set(key, (decoder = new TextDecoder()));
    const text = (this.#pending.get(key) ?? "") + decoder.decode(bytes, { stream: true });
    const lastNewline = text.lastIndexOf("\n");
    if (lastNewline < 0 && text.length < MAX_PENDING) {
      this.#pending.set(key, text);
      return;
    }
    const cut = lastNewline < 0 ? text.length : lastNewline + 1;
    this.#pending.set(key, text.slice(cut));
    this.#render(text.slice(0, cut));
  }

  /** A stage ended: its unfinished line is printed as a line of its own. */
  endLine(stream: TraceStream): void {
    const key = `${stream.id}${stream.type}`;
    const text = this.#pending.get(key) ?? "";
    this.#pending.delete(key);
    if (text.length > 0) this.#render(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** Prints what is left of unfinished lines. */
  flush(): void {
    for (const [key, text] of this.#pending) {
      this.#pending.delete(key);
      if (text.length > 0) this.#render(text.endsWith("\n") ? text : `${text}\n`);
    }
  }

  #render(text: string): void {
    // Most output holds no section marker and no escape to strip: it is printed as it came, each
    // line prefixed (a loud job's 256 MiB went from 72% of the runner's time in here to a copy).
    const plain = !text.includes("section_") && (this.#color || !text.includes("\x1b"));
    if (plain && this.#prefix === "") {
      if (text.length > 0) this.#print(text);
      return;
    }
    let out = "";
    for (let from = 0; from < text.length; ) {
      const newline = text.indexOf("\n", from);
      const end = newline < 0 ? text.length : newline + 1;
      const line = text.slice(from, end);
      from = end;
      if (plain) {
        out += this.#prefix + line;
        continue;
      }
      const unmarked = line.replace(SECTION_MARKER, "");
      // A line that held only section markers is not shown at all.
      if (unmarked !== line && unmarked.trim() === "") continue;
      out += this.#prefix + (this.#color ? unmarked : unmarked.replace(ANSI_ESCAPE, ""));
    }
    if (out.length > 0) this.#print(out);
  }
}
