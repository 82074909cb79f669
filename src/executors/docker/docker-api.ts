import type Modem from "docker-modem";
import type { Duplex, Readable, Writable } from "node:stream";
import { nodeStream } from "../../node-stream.ts";
import { dockerEndpoint, fetchTransport, modemOptions, queryString, type DockerEndpoint, type FetchTransport } from "./docker-endpoint.ts";

/** An error answer of the Engine API, with its status code and the engine's message. */
export class DockerApiError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

/** What an exec needs: the command, where its output goes, and optionally its standard input. */
export interface ExecOptions {
  readonly cmd: readonly string[];
  readonly stdin?: string;
  readonly stdout: (chunk: Buffer) => void;
  readonly stderr: (chunk: Buffer) => void;
  readonly env?: readonly string[];
  readonly workingDir?: string;
}

/** The statuses of an answer that is not an error. */
const ANSWERED = new Set([200, 201, 204, 304]);

/**
 * The few calls of the Docker Engine API the executor makes: JSON requests through Bun's fetch
 * (unix socket, tcp, TLS), and what needs the connection itself — attach and exec streams, a pull's
 * progress, an archive upload — over `docker-modem`, which hijacks them. docker-modem loads node's
 * http client on first use (~11 ms of a compiled start, node:http alone ~6), so it is loaded only
 * for those, while the engine creates the container (`preloadStreams`). No docker CLI is involved.
 */
export class DockerApi {
  readonly #endpoint: DockerEndpoint;
  readonly #transport: FetchTransport;
  #modem: Promise<Modem> | undefined;

  /** By default, the engine the environment names (DOCKER_HOST and its TLS settings). */
  constructor(endpoint: DockerEndpoint = dockerEndpoint({}, process.env)) {
    this.#endpoint = endpoint;
    this.#transport = fetchTransport(endpoint);
  }

  /** One JSON request; an answer outside 2xx rejects with a `DockerApiError`. */
  async request<T = unknown>(method: string, path: string, options: { query?: Record<string, unknown>; body?: unknown } = {}): Promise<T> {
    const { base, where, init } = this.#transport;
    const query = options.query ? `?${queryString(options.query)}` : "";
    let answer: Response;
    try {
      answer = await fetch(`${base}${path}${query}`, {
        ...init, method,
        ...(method === "POST" ? { body: JSON.stringify(options.body ?? {}), headers: { "Content-Type": "application/json" } } : {}),
      });
    } catch (error) {
      const e = error as { code?: string; message?: string };
      throw new DockerApiError(0, e.code ? `connect ${e.code} ${where}` : `${where}: ${e.message ?? String(error)}`);
    }
    const text = await answer.text();
    const json = parseJson(text);
    if (!ANSWERED.has(answer.status)) {
      const said = (json as { message?: string } | undefined)?.message ?? text.trim();
      throw new DockerApiError(answer.status, said || `HTTP ${answer.status}`);
    }
    return (json ?? text) as T;
  }

  /** Loads what the streamed calls need now (the engine is busy creating a container), not at the first stream. */
  preloadStreams(): void {
    this.#streams().catch(() => {});
  }

  #streams(): Promise<Modem> {
    this.#modem ??= import("docker-modem").then(({ default: ModemClass }) => new ModemClass(modemOptions(this.#endpoint.host, this.#endpoint)));
    return this.#modem;
  }

  /** A streamed request (pulling an image): resolves when the stream ends; errors in the stream reject. */
  async stream(method: string, path: string, query: Record<string, unknown>, auth?: { username: string; password: string; serveraddress: string }): Promise<void> {
    const modem = await this.#streams();
    return new Promise((resolve, reject) => {
      modem.dial(
        { path: `${path}?`, method, isStream: true, options: { _query: query, _body: {} }, allowEmpty: true, ...(auth ? { authconfig: auth } : {}), statusCodes: { 200: true, 404: "no such image", 500: "server error" } },
        (error: unknown, result: unknown) => {
          const stream = result as NodeJS.ReadableStream;
          if (error) return reject(apiError(error));
          modem.followProgress(stream, (failure: Error | null, events: { error?: string }[]) => {
            const failed = failure ?? events.find((e) => e.error);
            if (failed) reject(new DockerApiError(500, failure ? failure.message : String((failed as { error: string }).error)));
            else resolve();
          });
        },
      );
    });
  }

  /** A container's hijacked attach stream (stdin, and stdout/stderr in 8-byte-headed frames). */
  async attach(container: string): Promise<Duplex> {
    const modem = await this.#streams();
    return new Promise((resolve, reject) => {
      modem.dial(
        {
          path: `/containers/${container}/attach?`, method: "POST", hijack: true, openStdin: true, isStream: true, allowEmpty: true,
          options: { _query: { stream: true, stdin: true, stdout: true, stderr: true }, _body: {} },
          statusCodes: { 101: true, 200: true, 404: "no such container", 409: "container paused" },
        },
        (error: unknown, s: unknown) => (error ? reject(apiError(error)) : resolve(s as Duplex)),
      );
    });
  }

  /** Starts an interactive exec with a TTY (`docker exec -it`); the stream carries raw terminal bytes. */
  execTty(container: string, options: { cmd: readonly string[]; env?: readonly string[]; workingDir?: string }): Promise<{ id: string; stream: Duplex }> {
    return this.#startExec(container, { ...options, tty: true, stdin: true });
  }

  /** Creates an exec in `container` and starts it, with its hijacked stream. */
  async #startExec(
    container: string,
    options: { cmd: readonly string[]; env?: readonly string[]; workingDir?: string; user?: string; tty: boolean; stdin: boolean },
  ): Promise<{ id: string; stream: Duplex }> {
    const { Id } = await this.request<{ Id: string }>("POST", `/containers/${container}/exec`, { body: {
      Cmd: options.cmd, AttachStdin: options.stdin, AttachStdout: true, AttachStderr: true, Tty: options.tty,
      ...(options.env ? { Env: options.env } : {}), ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
      ...(options.user ? { User: options.user } : {}),
    } });
    const modem = await this.#streams();
    const stream = await new Promise<Duplex>((resolve, reject) => {
      modem.dial(
        {
          path: `/exec/${Id}/start`, method: "POST", options: { Detach: false, Tty: options.tty }, hijack: true,
          openStdin: options.stdin, isStream: true, statusCodes: { 200: true, 404: "no such exec", 409: "container not running" },
        },
        (error: unknown, s: unknown) => (error ? reject(apiError(error)) : resolve(s as Duplex)),
      );
    });
    return { id: Id, stream };
  }

  /**
   * Streams a tar into `path` of a container, created or running (`PUT /containers/{id}/archive`,
   * what `docker cp` does): nothing of it is held in memory here.
   */
  async putArchive(container: string, path: string, tar: Readable): Promise<void> {
    const modem = await this.#streams();
    return new Promise((resolve, reject) => {
      modem.dial(
        {
          path: `/containers/${container}/archive?`, method: "PUT", file: tar, isStream: true, options: { _query: { path }, _body: {} },
          statusCodes: { 200: true, 400: "bad parameter", 403: "permission denied", 404: "no such container or path", 500: "server error" },
        },
        (error: unknown, response: unknown) => {
          if (error) return reject(apiError(error));
          const answer = response as NodeJS.ReadableStream;
          answer.on("error", (e: Error) => reject(apiError(e)));
          answer.on("end", () => resolve());
          answer.resume();
        },
      );
    });
  }

  /**
   * A long-lived command in a running container with its standard streams: `stdin` raw,
   * `stdout` demultiplexed, what it writes to stderr collected (the last 4 KB). `exitCode()` asks
   * the engine once it has ended.
   */
  async execStream(container: string, cmd: readonly string[], user?: string): Promise<{ stdin: Writable; stdout: Readable; stderr: () => string; exitCode: () => Promise<number> }> {
    const { id, stream } = await this.#startExec(container, { cmd, tty: false, stdin: true, ...(user ? { user } : {}) });
    const stdout = new (nodeStream().PassThrough)();
    let stderr = "";
    (await this.#streams()).demuxStream(stream, stdout, sink((chunk) => (stderr = (stderr + chunk.toString()).slice(-4096))));
    const ended = () => stdout.end();
    stream.on("end", ended);
    stream.on("close", ended);
    stream.on("error", ended);
    return { stdin: stream, stdout, stderr: () => stderr, exitCode: () => this.#execExitCode(id) };
  }

  /** The engine's operating system and architecture, as Go names them (`linux`, `amd64`). */
  async platform(): Promise<{ os: string; arch: string }> {
    const { Os, Arch } = await this.request<{ Os: string; Arch: string }>("GET", "/version");
    return { os: Os, arch: Arch };
  }

  /** Runs a command in a running container and returns its exit code. */
  async exec(container: string, options: ExecOptions, signal?: AbortSignal): Promise<number> {
    const { id: Id, stream } = await this.#startExec(container, {
      cmd: options.cmd, tty: false, stdin: options.stdin !== undefined,
      ...(options.env ? { env: options.env } : {}), ...(options.workingDir ? { workingDir: options.workingDir } : {}),
    });
    const ended = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
    });
    (await this.#streams()).demuxStream(stream, sink(options.stdout), sink(options.stderr));
    if (options.stdin !== undefined) stream.end(options.stdin);
    const onAbort = () => stream.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await ended;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return this.#execExitCode(Id);
  }

  /** An ended exec's exit code: its stream ends a moment before the engine records it (-1: never recorded). */
  async #execExitCode(id: string): Promise<number> {
    for (let i = 0; i < 200; i++) {
      const info = await this.request<{ Running: boolean; ExitCode: number | null }>("GET", `/exec/${id}/json`);
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      await Bun.sleep(i < 20 ? 5 : 50);
    }
    return -1;
  }
}

function sink(write: (chunk: Buffer) => void): Writable {
  return new (nodeStream().Writable)({ write(chunk: Buffer, _encoding, done) { write(chunk); done(); } });
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function apiError(error: unknown): DockerApiError {
  const e = error as { statusCode?: number; json?: { message?: string } | null; message?: string };
  return new DockerApiError(e.statusCode ?? 0, e.json?.message ?? e.message ?? String(error));
}
