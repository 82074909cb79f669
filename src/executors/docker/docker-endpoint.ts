import type Modem from "docker-modem";
import { readFileSync } from "node:fs";

/** Where the Docker Engine API is: `[runners.docker] host` or `DOCKER_HOST`, else the local socket. */
export interface DockerEndpoint {
  readonly host?: string;
  readonly tlsCertPath?: string;
  readonly tlsVerify?: boolean;
}

/**
 * The engine a `[runners.docker]` section names (`host`, `tls_cert_path`, `tls_verify`), else the
 * one the environment names, as the Docker CLI and GitLab Runner read it: DOCKER_HOST,
 * DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), DOCKER_TLS_VERIFY.
 */
export function dockerEndpoint(
  docker: { readonly host?: string | undefined; readonly tls_cert_path?: string | undefined; readonly tls_verify?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>,
): DockerEndpoint {
  const fromEnv = !docker.host;
  const host = docker.host || env.DOCKER_HOST;
  const certPath = docker.tls_cert_path || (fromEnv ? env.DOCKER_CERT_PATH : undefined);
  const verify = docker.tls_verify ?? (fromEnv && env.DOCKER_TLS_VERIFY ? !["0", "false"].includes(env.DOCKER_TLS_VERIFY) : undefined);
  return { ...(host ? { host } : {}), ...(certPath ? { tlsCertPath: certPath } : {}), ...(verify !== undefined ? { tlsVerify: verify } : {}) };
}

/** Where fetch sends the JSON requests, and how (a unix socket, or TLS with the engine's certificates). */
export interface FetchTransport {
  readonly base: string;
  /** The engine, as errors name it. */
  readonly where: string;
  readonly init: { unix?: string; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } };
}

export function fetchTransport(endpoint: DockerEndpoint): FetchTransport {
  const options = modemOptions(endpoint.host, endpoint) as { socketPath?: string; protocol?: string; host?: string; port?: number; ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  if (options.socketPath) return { base: "http://docker", where: options.socketPath, init: { unix: options.socketPath } };
  const tls = options.protocol === "https"
    ? { ...(options.ca ? { ca: options.ca } : {}), ...(options.cert ? { cert: options.cert } : {}), ...(options.key ? { key: options.key } : {}), ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) }
    : undefined;
  return { base: `${options.protocol}://${options.host}:${options.port}`, where: `${options.host}:${options.port}`, init: tls ? { tls } : {} };
}

/** A query as the Engine API reads it (as docker-modem writes it): objects as JSON, lists as repeated keys. */
export function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, value !== null && typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  return params.toString();
}

/** docker-modem's options for the engine: a unix socket, or tcp with TLS and its certificates. */
export function modemOptions(host: string | undefined, endpoint: DockerEndpoint): ConstructorParameters<typeof Modem>[0] {
  if (!host || host.startsWith("unix://")) return { socketPath: host ? host.slice("unix://".length) : "/var/run/docker.sock" };
  if (host.startsWith("/")) return { socketPath: host };
  const tls = endpoint.tlsVerify === true || endpoint.tlsCertPath !== undefined;
  const url = new URL(host.replace(/^tcp:/, tls ? "https:" : "http:"));
  const certificates = tls && endpoint.tlsCertPath
    ? {
        ca: readFileSync(`${endpoint.tlsCertPath}/ca.pem`),
        cert: readFileSync(`${endpoint.tlsCertPath}/cert.pem`),
        key: readFileSync(`${endpoint.tlsCertPath}/key.pem`),
      }
    : {};
  // Docker's ports: 2376 with TLS, 2375 without.
  const port = Number(url.port || (url.protocol === "https:" ? 2376 : 2375));
  return {
    protocol: url.protocol === "https:" ? "https" : "http", host: url.hostname, port, ...certificates,
    ...(url.protocol === "https:" && endpoint.tlsVerify === false ? { rejectUnauthorized: false } : {}),
  } as ConstructorParameters<typeof Modem>[0];
}
