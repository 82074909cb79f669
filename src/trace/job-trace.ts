import { ANSI } from "./ansi.ts";
import { utf8 } from "./bytes.ts";
import type { MaskingRules } from "./masking.ts";
import { TraceMaskers } from "./trace-maskers.ts";
import { scriptMarkFilter } from "./script-markers.ts";
import { commandFilter } from "./job-commands/command-filter.ts";
import type { JobCommand } from "./job-commands/grammar.ts";
import { TraceCommands, type CommandSource, type JobIssue } from "./job-commands/trace-commands.ts";
import type { JobFailure } from "../protocol/job-failure.ts";

/** Which stream a trace write came from: `00` runner messages, `01` the job's script (docs/protocol.md §9.4). */
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
  /**
   * The stream's current line is over, newline or not: a stage ended. (GitLab Runner opens a fresh
   * masker and timestamper per stage, so a last line without a newline stays in its own section.)
   */
  endLine?(stream: TraceStream): void;
}

/** Told what happens in a trace, for the run record: sections, numbered script lines, bytes. */
export interface TraceObserver {
  sectionStart(name: string, time: number): void;
  sectionEnd(name: string, time: number, failure: JobFailure | undefined): void;
  scriptLine(index: number, time: number): void;
  bytes(count: number): void;
}

/** Plain, green, `WARNING: ` and `ERROR: ` lines. */
export interface StageLines {
  println(text: string): void;
  info(text: string): void;
  warning(text: string): void;
  error(text: string): void;
}

/** Where an executor writes a stage's output. */
export interface OutputWriter {
  write(chunk: Uint8Array): void;
}

/**
 * The job trace: what the job's user sees. Runner lines and script output go through a masker each,
 * then to the sink, in GitLab Runner's byte format (docs/protocol.md §9). A stage's stdout and
 * stderr are one writer, as GitLab Runner gives both streams to one writer: one masker sees them in
 * the order they came (a secret printed half on each is still masked). The stage scripts send
 * stderr to stdout themselves, so the order is the true one (see shell-writer.ts).
 */
export class JobTrace {
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
  /**
   * Lines of a stage that the runner writes itself (caches, artifacts): in GitLab Runner they come
   * from the stage's script and its helper, so they are the script's stream (`01`), not the runner's.
   */
  readonly stage: StageLines;
  readonly #runner: (bytes: Uint8Array) => void;
  readonly #endScript: () => void;
  readonly #sink: TraceSink;
  readonly #ends: (() => void)[] = [];
  readonly #sections: boolean;
  readonly #now: () => number;
  readonly #observer: TraceObserver | undefined;

  readonly #commands: TraceCommands;
  readonly #mask: (text: string) => string;

  constructor(options: {
    sink: TraceSink;
    masking: MaskingRules;
    /** `features.trace_sections`: whether section markers are written. */
    sections: boolean;
    /** Milliseconds since the epoch; for section timestamps. */
    now?: () => number;
    observer?: TraceObserver;
    /** CI_DEBUG_TRACE: job commands leave a dim note. */
    debug?: boolean;
    /** Told of each phrase a job command masks (for the run record's own texts). */
    onMask?: (phrase: string) => void;
    /** Job commands that change the job (variables, PATH, result, files); a returned text is warned. */
    onJobCommand?: (command: JobCommand, source: CommandSource) => string | undefined;
  }) {
    this.#sections = options.sections;
    this.#now = options.now ?? Date.now;
    this.#observer = options.observer;
    const sink = observed(options.sink, options.observer);
    this.#sink = sink;
    const maskers = new TraceMaskers(options.masking, (runner, script) => {
      emit(sink, RUNNER_STREAM, runner);
      emit(sink, SCRIPT_STDOUT, script);
    });
    this.#runner = (bytes) => emit(sink, RUNNER_STREAM, maskers.runner(bytes));
    const masked = (bytes: Uint8Array) => emit(sink, SCRIPT_STDOUT, maskers.script(bytes));
    const addMask = (value: string) => {
      for (const phrase of maskers.add(value)) options.onMask?.(phrase);
    };
    this.#commands = new TraceCommands({
      write: (text) => masked(utf8(text)), addMask, now: this.#now, debug: options.debug ?? false, sections: options.sections,
      ...(options.onJobCommand ? { onJobCommand: options.onJobCommand } : {}),
    });
    this.#mask = (text) => maskers.mask(text);
    // The runner's script-line marks come out of the script's output before anything else sees it,
    // then job commands; what came before a mark or a command is written first.
    const commands = commandFilter((command, before) => {
      if (before.length > 0) masked(before);
      this.#commands.handle(command);
    });
    const unmarked = (bytes: Uint8Array) => masked(commands.write(bytes));
    const marks = scriptMarkFilter((index, before) => {
      if (before.length > 0) unmarked(before);
      this.#observer?.scriptLine(index, this.#now());
    });
    this.#endScript = () => {
      unmarked(marks.end());
      masked(commands.end());
      this.#commands.endStage();
      emit(sink, SCRIPT_STDOUT, maskers.endScript());
      sink.endLine?.(SCRIPT_STDOUT);
    };
    this.#ends.push(this.#endScript, () => emit(sink, RUNNER_STREAM, maskers.endRunner()));
    const script = { write: (bytes: Uint8Array) => unmarked(marks.write(bytes)) };
    this.stdout = script;
    this.stderr = script;
    this.stage = stageLines(script);
  }

  /** Warnings and errors the job's script raised with commands (`##vso[task.logissue]`, `::warning::`…), masked as the trace. */
  get issues(): readonly JobIssue[] {
    return this.#commands.issues.map((issue) => ({
      ...issue, message: this.#mask(issue.message), ...(issue.file ? { file: this.#mask(issue.file) } : {}),
    }));
  }

  /** A command the job wrote to its command file (not printed): handled as a printed one, from a trusted source. */
  fileCommand(command: JobCommand): void {
    this.#commands.handle(command, "file");
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
    // What the stage printed is complete, its last line too: it belongs to this section.
    this.#endScript();
    if (this.#sections) this.#runner(utf8(`section_end:${this.#seconds()}:${name}\r${ANSI.clear}`));
    this.#observer?.sectionEnd(name, this.#now(), failure);
  }

  /**
   * Starts the runner's lines afresh: GitLab Runner writes the final `Job succeeded` / `Job failed`
   * line with a logger of its own, so it is never the continuation of a section marker.
   */
  freshRunnerLine(): void {
    this.#sink.endLine?.(RUNNER_STREAM);
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

/** The sink, counting the bytes written to it for the observer. */
function observed(sink: TraceSink, observer: TraceObserver | undefined): TraceSink {
  if (!observer) return sink;
  return { write: (bytes, stream) => (observer.bytes(bytes.length), sink.write(bytes, stream)), endLine: (stream) => sink.endLine?.(stream) };
}

/** The runner's own lines of a stage, on the script's stream. */
function stageLines(script: OutputWriter): StageLines {
  const line = (text: string) => script.write(utf8(`${text}${ANSI.reset}\n`));
  return {
    println: (text) => line(`${ANSI.clear}${text}`),
    info: (text) => line(`${ANSI.boldGreen}${text}`),
    warning: (text) => line(`${ANSI.yellow}WARNING: ${text}`),
    error: (text) => line(`${ANSI.boldRed}ERROR: ${text}`),
  };
}

function emit(sink: TraceSink, stream: TraceStream, bytes: Uint8Array): void {
  if (bytes.length > 0) sink.write(bytes, stream);
}
