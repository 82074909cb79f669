import type { Readable, Writable } from "node:stream";

/** One command on a remote host with its streams: what SSH's exec channel is. */
export interface RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The exit code (-1 when the channel closed without one). */
  readonly exit: Promise<number>;
}

export type RunRemote = (script: string) => Promise<RemoteProcess>;
