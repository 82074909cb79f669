import { ANSI } from "./ansi.ts";
import { utf8 } from "./bytes.ts";
import { createMasker, type MaskingRules } from "./masking.ts";
import { scriptMarkFilter } from "../record/script-markers.ts";
import type { JobFailure } from "../protocol/job-failure.ts";

/** Which stream a trace write came from: `00` runner messages, `01` the job's script (§9.4). */
export interface TraceStream {
  readonly id: number;
  readonly type: "O" | "E";
}

export const RUNNER_STREAM: TraceStream = { id: 0, type: "O" };
export const SCRIPT_STDOUT: TraceStream = { id: 1, type: "O" };
export const SCRIPT_STDERR: TraceStream = { id: 1, type: "E" };

/** Receives the already-masked bytes of a trace. */
export interface TraceSink {
  write(bytes: Uint8Array, stream: TraceStream): void;
}

/** Told what happens in a trace, for the run record: sections, numbered script lines, bytes. */
export interface TraceObserver {
  sectionStart(name: string, time: number): void;
  sectionEnd(name: string, time: number, failure: JobFailure | undefined): void;
  scriptLine(index: number, time: number): void;
  bytes(count: number): void;
}

/** Where an executor writes a stage's output. */
export interface OutputWriter {
  write(chunk: Uint8Array): void;
}

/**
 * The job trace: what the job's user sees. Runner lines and script output go through a masker per
 * stream, then to the sink, in GitLab Runner's byte format (gitlab-protocol.md §9).
 */
export class JobTrace {
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
  readonly #runner: (bytes: Uint8Array) => void;
  readonly #ends: (() => void)[] = [];
  readonly #sections: boolean;
  readonly #now: () => number;
  readonly #observer: TraceObserver | undefined;

  constructor(options: {
    sink: TraceSink;
    masking: MaskingRules;
    /** `features.trace_sections`: whether section markers are written. */
    sections: boolean;
    /** Milliseconds since the epoch; for section timestamps. */
    now?: () => number;
    observer?: TraceObserver;
  }) {
    this.#sections = options.sections;
    this.#now = options.now ?? Date.now;
    this.#observer = options.observer;
    const sink: TraceSink = options.observer
      ? { write: (bytes, stream) => (options.observer!.bytes(bytes.length), options.sink.write(bytes, stream)) }
      : options.sink;
    const open = (stream: TraceStream) => {
      const masker = createMasker(options.masking);
      this.#ends.push(() => emit(sink, stream, masker.end()));
      return (bytes: Uint8Array) => emit(sink, stream, masker.write(bytes));
    };
    this.#runner = open(RUNNER_STREAM);
    // The runner's script-line marks come out of the script's stdout before anything else sees it;
    // what came before a mark is written before the line it starts is reported.
    const masked = open(SCRIPT_STDOUT);
    const marks = scriptMarkFilter((index, before) => {
      if (before.length > 0) masked(before);
      this.#observer?.scriptLine(index, this.#now());
    });
    this.#ends.unshift(() => masked(marks.end()));
    const out = (bytes: Uint8Array) => masked(marks.write(bytes));
    const err = open(SCRIPT_STDERR);
    this.stdout = { write: out };
    this.stderr = { write: err };
  }

  /** A plain runner line (`Println`). */
  println(text: string): void {
    this.#line(`${ANSI.clear}${text}`);
  }

  /** A green runner line (`Infoln`). */
  info(text: string): void {
    this.#line(`${ANSI.boldGreen}${text}`);
  }

  /** A `WARNING: ` runner line. */
  warning(text: string): void {
    this.#line(`${ANSI.yellow}WARNING: ${text}`);
  }

  /** An `ERROR: ` runner line. */
  error(text: string): void {
    this.#line(`${ANSI.boldRed}ERROR: ${text}`);
  }

  /** Opens a section and writes its bold-cyan header. */
  sectionStart(name: string, header: string): void {
    this.#observer?.sectionStart(name, this.#now());
    if (this.#sections) this.#runner(utf8(`section_start:${this.#seconds()}:${name}\r${ANSI.clear}`));
    this.println(`${ANSI.boldCyan}${header}${ANSI.reset}`);
  }

  /** Closes a section; `failure` says how the step in it ended (for the observer). */
  sectionEnd(name: string, failure?: JobFailure): void {
    if (this.#sections) this.#runner(utf8(`section_end:${this.#seconds()}:${name}\r${ANSI.clear}`));
    this.#observer?.sectionEnd(name, this.#now(), failure);
  }

  /** Releases whatever the maskers still hold; the trace takes no writes after this. */
  end(): void {
    for (const end of this.#ends) end();
  }

  #line(text: string): void {
    this.#runner(utf8(`${text}${ANSI.reset}\n`));
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }
}

function emit(sink: TraceSink, stream: TraceStream, bytes: Uint8Array): void {
  if (bytes.length > 0) sink.write(bytes, stream);
}
