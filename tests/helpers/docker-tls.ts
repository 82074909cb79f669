import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";

/**
 * A Docker engine reached over `tcp://127.0.0.1:<port>` with mutual TLS, as `dockerd --tlsverify`
 * is: a TLS front (certificates made here with openssl: a CA, a server certificate for 127.0.0.1, a
 * client certificate) to the test engine's socket. The directory holds ca.pem, cert.pem and key.pem
 * as DOCKER_CERT_PATH expects them.
 */
export interface TlsEngine {
  readonly host: string;
  readonly certPath: string;
  /** Connections that completed the handshake, and ones refused. */
  readonly counts: { accepted: number; refused: number };
  stop(): Promise<void>;
}

function openssl(dir: string, ...args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr}`);
}

export function makeCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-docker-tls-"));
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA", "-keyout", "ca-key.pem", "-out", "ca.pem");
  writeFileSync(join(dir, "server.ext"), "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n");
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage = clientAuth\n");
  for (const [name, ext] of [["server", "server.ext"], ["client", "client.ext"]] as const) {
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`);
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", `${name}-cert.pem`);
  }
  writeFileSync(join(dir, "cert.pem"), readFileSync(join(dir, "client-cert.pem")));
  writeFileSync(join(dir, "key.pem"), readFileSync(join(dir, "client-key.pem")));
  return dir;
}

export async function startTlsEngine(socketPath = "/var/run/docker.sock"): Promise<TlsEngine> {
  const certPath = makeCertificates();
  const counts = { accepted: 0, refused: 0 };
  const open = new Set<Socket>();
  const server: Server = createServer({
    key: readFileSync(join(certPath, "server-key.pem")), cert: readFileSync(join(certPath, "server-cert.pem")),
    ca: readFileSync(join(certPath, "ca.pem")), requestCert: true, rejectUnauthorized: true,
  }, (client) => {
    counts.accepted++;
    const engine = connect(socketPath);
    open.add(client).add(engine);
    client.pipe(engine).pipe(client);
    const close = () => {
      client.destroy();
      engine.destroy();
    };
    client.on("error", close).on("close", close);
    engine.on("error", close).on("close", close);
  });
  server.on("tlsClientError", () => void counts.refused++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: `tcp://127.0.0.1:${port}`, certPath, counts,
    stop: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
