import { bytesFrom, concatBytes, EMPTY, indexOfBytes } from "../bytes.ts";
import { holdFrom, holdingFilter, type ScanResult, type StreamFilter } from "../stream-filter.ts";
import { parseCommandLine, type JobCommand } from "./grammar.ts";

const NEWLINE = 0x0a;
const HASH = 0x23;
const COLON = 0x3a;
const LINE_HASH = Buffer.from("\n#");
const LINE_COLON = Buffer.from("\n:");
/** A command line is at most this long; a longer line is output, whatever it starts with. */
const MAX_LINE = 64 * 1024;

/**
 * Takes job commands out of a stage's output: a whole line that is a command (grammar.ts) never
 * reaches the trace; `onCommand` gets it with the output that came before it (handed over first, so
 * that what a command changes — a mask — applies only after it). `::stop-commands::TOKEN` leaves
 * every line alone until `::TOKEN::`. Only lines that start with `#` or `:` are looked at, so output
 * without commands passes at the cost of finding its line ends.
 */
export function commandFilter(onCommand: (command: JobCommand, before: Uint8Array) => void): StreamFilter {
  let atLineStart = true;
  let stopToken: string | undefined;
  const decoder = new TextDecoder();

  /** What a whole line is: a command, a line to drop (the end of `stop-commands`), or output. */
  const handle = (line: Uint8Array): JobCommand | "drop" | undefined => {
    const text = decoder.decode(line);
    if (stopToken !== undefined) {
      if (text.replace(/\r$/, "") !== `::${stopToken}::`) return undefined;
      stopToken = undefined;
      return "drop";
    }
    const command = parseCommandLine(text);
    if (command?.dialect === "github" && command.name === "stop-commands") {
      if (command.message === "") return undefined;
      stopToken = command.message;
    }
    return command;
  };

  const scan = (data: Uint8Array, final: boolean): ScanResult => {
    const out: Uint8Array[] = [];
    let last = 0;
    // Only line starts with `#` or `:` are candidates, found with two native searches per chunk
    // (a loop over every line end cost 10-15 % of the trace's throughput).
    const next = (from: number): number => {
      const hash = indexOfBytes(data, LINE_HASH, from);
      const colon = indexOfBytes(data, LINE_COLON, from);
      const found = hash === -1 ? colon : colon === -1 ? hash : Math.min(hash, colon);
      return found === -1 ? -1 : found + 1;
    };
    let at = atLineStart && data.length > 0 && (data[0] === HASH || data[0] === COLON) ? 0 : next(0);
    while (at !== -1 && at < data.length) {
      const newline = indexOfBytes(data, NEWLINE, at);
      if (newline === -1) {
        // A command may be coming: hold the line until it ends, unless it is already too long for one.
        if (!final && data.length - at <= MAX_LINE) {
          atLineStart = true;
          return holdFrom(out, data, last, at);
        }
        break;
      }
      const found = newline - at <= MAX_LINE ? handle(data.subarray(at, newline)) : undefined;
      if (found !== undefined) {
        out.push(data.subarray(last, at));
        if (found !== "drop") onCommand(found, concatBytes(out.splice(0)));
        last = newline + 1;
      }
      at = next(newline);
    }
    atLineStart = data.length === 0 ? atLineStart : data[data.length - 1] === NEWLINE;
    out.push(bytesFrom(data, last));
    return { output: concatBytes(out), held: EMPTY };
  };
  return holdingFilter(scan);
}
