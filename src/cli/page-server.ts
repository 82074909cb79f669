import { existsSync, readFileSync } from "node:fs";
import { join, normalize } from "node:path";
import { renderPage } from "../record/page/page-html.ts";
import { readPageState, type PlannedPageJob } from "../record/page/page-state.ts";
import { UsageError } from "./exit-codes.ts";

/** A running page server: its URL, a way to tell the pages something happened, and to stop. */
export interface PageServer {
  readonly url: string;
  notify(data?: string): void;
  stop(): void;
}

/**
 * Serves the pipeline page of a run record on `address` (127.0.0.1 unless told otherwise): the page,
 * `state.json` (read from the record at each request), `trace/<job>`, `artifacts/<job>/<file>`, and
 * `events`, server-sent events that say when the state changed (`end` when the run is over).
 */
export function servePage(options: { address: string; runDir: () => string | undefined; plan?: readonly PlannedPageJob[]; stages?: readonly string[] }): PageServer {
  const [host, portText] = parseAddress(options.address);
  const listeners = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let last: string | undefined;
  const within = (base: string, path: string) => {
    const full = normalize(join(base, path));
    return full.startsWith(`${normalize(base)}/`) && existsSync(full) ? full : undefined;
  };
  const server = Bun.serve({
    hostname: host, port: portText,
    fetch(request) {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const dir = options.runDir();
      if (path === "/") return new Response(renderPage(undefined), { headers: { "content-type": "text/html; charset=utf-8" } });
      if (path === "/state.json") {
        if (!dir) return Response.json({ runId: "", status: "pending", warnings: false, createdAt: new Date().toISOString(), stages: [], jobs: [], live: true });
        return Response.json(readPageState(dir, options.plan, options.stages));
      }
      if (path === "/events") {
        const stream = new ReadableStream<Uint8Array>({
          start: (controller) => {
            listeners.add(controller);
            if (last === "end") controller.enqueue(new TextEncoder().encode("data: end\n\n"));
          },
          cancel: (controller) => void listeners.delete(controller as never),
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
      }
      const file = dir && path.startsWith("/trace/") ? within(dir, join(path.slice(7), "trace.log"))
        : dir && path.startsWith("/artifacts/") ? within(dir, join(path.split("/")[2] ?? "", "artifacts", path.split("/").slice(3).join("/")))
        : undefined;
      return file ? new Response(readFileSync(file)) : new Response("not found", { status: 404 });
    },
  });
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}/`,
    notify(data = "change") {
      last = data;
      for (const c of listeners) {
        try {
          c.enqueue(new TextEncoder().encode(`data: ${data}\n\n`));
        } catch {
          listeners.delete(c);
        }
      }
    },
    stop: () => void server.stop(true),
  };
}

/** `PORT`, `HOST:PORT` or `HOST` (port 0: any free one); 127.0.0.1 unless a host is named. */
function parseAddress(address: string): [string, number] {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(address) ?? (/^[A-Za-z0-9.:-]+$/.test(address) ? [address, address, "0"] : null);
  if (!m) throw new UsageError(`--serve ${address}: expected a port, HOST:PORT or HOST`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`--serve ${address}: ${port} is not a port`);
  return [m[1] || "127.0.0.1", port];
}
