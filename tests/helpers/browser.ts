import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = "/usr/bin/chromium";

/** Whether Debian's Chromium is here; in CI it must be (`.ci/run` installs it). */
export function chromiumAvailable(): boolean {
  const available = existsSync(CHROMIUM);
  if (!available && process.env.CI === "true") throw new Error(`${CHROMIUM} is missing in CI; .ci/run installs chromium`);
  if (!available) console.warn(`\n!!! SKIPPING the page tests: ${CHROMIUM} is not installed (apt-get install chromium) !!!\n`);
  return available;
}

/** A headless Chromium driven over the DevTools protocol: navigate, evaluate, wait for, screenshot. */
export interface Browser {
  goto(url: string): Promise<void>;
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy (or throws after `timeoutMs`). */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

export async function launchBrowser(size = { width: 1200, height: 800 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "runner-chromium-"));
  const child = Bun.spawn([
    CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`,
    "--hide-scrollbars", "--remote-debugging-port=0", `--window-size=${size.width},${size.height}`, "about:blank",
  ], { stdout: "ignore", stderr: "pipe" });
  const reader = child.stderr.getReader();
  let said = "";
  while (!/DevTools listening on (ws:\/\/\S+)/.test(said)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium did not start: ${said}`);
    said += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void child.stderr.pipeTo(new WritableStream());
  const port = new URL(/DevTools listening on (ws:\/\/\S+)/.exec(said)![1]!).port;
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(targets.find((t) => t.type === "page")!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ((socket.onopen = resolve), (socket.onerror = reject)));
  let id = 0;
  const waiting = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  const loads: (() => void)[] = [];
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    if (message.id !== undefined) waiting.get(message.id)?.(message);
    if (message.method === "Page.loadEventFired") for (const load of loads.splice(0)) load();
  };
  const send = <T>(method: string, params: Record<string, unknown> = {}) => new Promise<T>((resolve, reject) => {
    const n = ++id;
    waiting.set(n, (m) => (waiting.delete(n), m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T)));
    socket.send(JSON.stringify({ id: n, method, params }));
  });
  await send("Page.enable");
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  return {
    async goto(url) {
      // A navigation that changes only the hash fires no load event: go through a blank page.
      for (const to of ["about:blank", url]) {
        const loaded = new Promise<void>((resolve) => loads.push(resolve));
        await send("Page.navigate", { url: to });
        await loaded;
      }
    },
    evaluate,
    async waitFor(expression, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!(await evaluate<boolean>(`Boolean(${expression})`))) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${expression}`);
        await Bun.sleep(100);
      }
    },
    async screenshot() {
      const { data } = await send<{ data: string }>("Page.captureScreenshot", { format: "png" });
      return Buffer.from(data, "base64");
    },
    async close() {
      socket.close();
      child.kill();
      await child.exited;
    },
  };
}
