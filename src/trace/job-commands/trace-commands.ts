import { ANSI } from "../ansi.ts";
import type { JobCommand } from "./grammar.ts";

/** A warning, error or notice a job's script raised with a command, for the closing table and the record. */
export interface JobIssue {
  readonly type: "warning" | "error" | "notice";
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly code?: string;
}

/** What the trace does with a command: what it writes, masks and records itself; the rest is the job's. */
export interface TraceCommandHooks {
  /** Writes text on the script's stream (masked as the script's output is). */
  readonly write: (text: string) => void;
  readonly addMask: (value: string) => void;
  readonly now: () => number;
  /** CI_DEBUG_TRACE: `##[debug]` lines show, and each command leaves a dim note of its name. */
  readonly debug: boolean;
  /** `features.trace_sections`: groups become collapsible sections. */
  readonly sections: boolean;
  /**
   * Commands that change the job (variables, PATH, result, files), for the steps to decide on; what
   * it returns is written as a warning (a refused command, say).
   */
  readonly onJobCommand?: (command: JobCommand, source: CommandSource) => string | undefined;
}

/** Where a command came from: the stage's output, or the command file only the job's own commands write. */
export type CommandSource = "output" | "file";

const JOB_COMMANDS = new Set(["task.setvariable", "task.prependpath", "task.complete", "task.uploadfile", "artifact.upload"]);

/**
 * The trace's side of job commands: masks (always honoured: they can only hide text), groups as
 * GitLab's collapsible sections, warnings and errors highlighted and collected, formatting lines;
 * the command lines themselves are never shown (a dim note of the name under CI_DEBUG_TRACE).
 */
export class TraceCommands {
  readonly issues: JobIssue[] = [];
  readonly #groups: string[] = [];
  #groupCount = 0;

  constructor(private readonly hooks: TraceCommandHooks) {}

  handle(command: JobCommand, source: CommandSource = "output"): void {
    const { name, message, properties } = command;
    if (this.hooks.debug && name !== "debug") this.#dim(`runner command: ${command.dialect === "azure" && name.includes(".") ? `##vso[${name}]` : name}`);
    if (name === "task.setsecret" || name === "add-mask") return this.hooks.addMask(message);
    if (name === "task.setvariable" && properties.issecret === "true") this.hooks.addMask(message);
    if (JOB_COMMANDS.has(name)) {
      const warning = this.hooks.onJobCommand?.(command, source);
      if (warning) this.hooks.write(`${ANSI.yellow}WARNING: ${warning}${ANSI.reset}\n`);
      return;
    }
    if (name === "group") return this.#open(message);
    if (name === "endgroup") return this.#close();
    if (name === "task.logissue") return this.#issue(properties.type === "error" ? "error" : "warning", message, properties, "azure");
    if (name === "warning" || name === "error" || name === "notice") return this.#issue(name, message, properties, command.dialect);
    if (name === "section") return this.hooks.write(`${ANSI.boldGreen}${message}${ANSI.reset}\n`);
    if (name === "command") return this.hooks.write(`${ANSI.boldGreen}$ ${message}${ANSI.reset}\n`);
    if (name === "debug" && this.hooks.debug) this.#dim(`[debug] ${message}`);
  }

  /** Groups still open when the stage ends are closed with it. */
  endStage(): void {
    while (this.#groups.length > 0) this.#close();
  }

  #open(title: string): void {
    const section = `section_group_${++this.#groupCount}`;
    this.#groups.push(section);
    const marker = this.hooks.sections ? `${ANSI.clear}section_start:${this.#seconds()}:${section}[collapsed=true]\r${ANSI.clear}` : "";
    this.hooks.write(`${marker}${ANSI.boldCyan}${title}${ANSI.reset}\n`);
  }

  #close(): void {
    const section = this.#groups.pop();
    if (section && this.hooks.sections) this.hooks.write(`${ANSI.clear}section_end:${this.#seconds()}:${section}\r${ANSI.clear}\n`);
  }

  #issue(type: JobIssue["type"], message: string, p: Readonly<Record<string, string>>, dialect: "azure" | "github"): void {
    const file = dialect === "azure" ? p.sourcepath : p.file;
    const line = Number(dialect === "azure" ? p.linenumber : p.line) || undefined;
    const column = Number(dialect === "azure" ? p.columnnumber : p.col) || undefined;
    const code = p.code || p.title || undefined;
    const issue: JobIssue = { type, message, ...(file ? { file } : {}), ...(line ? { line } : {}), ...(column ? { column } : {}), ...(code ? { code } : {}) };
    this.issues.push(issue);
    const where = file ? `${[file, line, column].filter((x) => x !== undefined).join(":")}: ` : "";
    const colour = type === "error" ? `${ANSI.boldRed}ERROR: ` : type === "warning" ? `${ANSI.yellow}WARNING: ` : `${ANSI.boldGreen}NOTICE: `;
    this.hooks.write(`${colour}${where}${code ? `${code}: ` : ""}${message}${ANSI.reset}\n`);
  }

  #dim(text: string): void {
    this.hooks.write(`\x1b[0;37m${text}${ANSI.reset}\n`);
  }

  #seconds(): number {
    return Math.floor(this.hooks.now() / 1000);
  }
}
