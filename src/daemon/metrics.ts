import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunnerConfig } from "../config/config-schema.ts";
import { shortToken } from "../protocol/token.ts";

/** Prometheus metrics of the daemon, served on `listen_address` (names as GitLab Runner's). */
export class Metrics {
  readonly registry = new Registry();
  readonly #jobs = new Gauge({
    name: "gitlab_runner_jobs", help: "The number of running jobs",
    labelNames: ["runner", "state"], registers: [this.registry],
  });
  readonly #finished = new Counter({
    name: "gitlab_runner_jobs_total", help: "Jobs finished, by the state they ended in",
    labelNames: ["runner", "state"], registers: [this.registry],
  });
  readonly #requests = new Counter({
    name: "gitlab_runner_api_request_statuses_total", help: "Requests to GitLab by endpoint and status",
    labelNames: ["endpoint", "status"], registers: [this.registry],
  });
  readonly #durations = new Histogram({
    name: "gitlab_runner_api_request_duration_seconds", help: "Durations of requests to GitLab by endpoint and status",
    labelNames: ["endpoint", "status"], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60], registers: [this.registry],
  });

  jobStarted(runner: RunnerConfig): void {
    this.#jobs.inc({ runner: shortToken(runner.token), state: "running" });
  }

  jobFinished(runner: RunnerConfig, state: string): void {
    this.#jobs.dec({ runner: shortToken(runner.token), state: "running" });
    this.#finished.inc({ runner: shortToken(runner.token), state });
  }

  recordRequest(endpoint: string, status: number, durationMs: number): void {
    this.#requests.inc({ endpoint, status: String(status) });
    this.#durations.observe({ endpoint, status: String(status) }, durationMs / 1000);
  }

  /** Serves `/metrics` on `host:port`; returns a function that stops the server. */
  serve(listenAddress: string): { url: string; stop: () => void } {
    const [host, port] = splitAddress(listenAddress);
    const server = Bun.serve({
      hostname: host, port,
      fetch: async (request) => {
        if (new URL(request.url).pathname !== "/metrics") return new Response("404 page not found\n", { status: 404 });
        return new Response(await this.registry.metrics(), { headers: { "Content-Type": this.registry.contentType } });
      },
    });
    return { url: `http://${host}:${server.port}/metrics`, stop: () => void server.stop(true) };
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  const host = colon > 0 ? address.slice(0, colon) : "127.0.0.1";
  return [host === "" ? "0.0.0.0" : host, Number(address.slice(colon + 1)) || 9252];
}
