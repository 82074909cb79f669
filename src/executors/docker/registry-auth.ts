import type { Credentials } from "../../protocol/types.ts";

/** What the engine's `X-Registry-Auth` header carries for one pull. */
export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
  readonly serveraddress: string;
  /** Where it came from, for the trace line GitLab Runner prints. */
  readonly source: "job payload (GitLab Registry)" | "$DOCKER_AUTH_CONFIG";
}

const DOCKER_HUB = "docker.io";

/** The registry an image name points at: its first part when that looks like a host, else Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split("/")[0]!;
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : DOCKER_HUB;
}

/**
 * The credentials for pulling `image`, as GitLab Runner chooses them: `DOCKER_AUTH_CONFIG` (a job
 * variable or the runner's environment: `auths` with `auth` = base64 of `user:password`, or
 * `username`/`password`) first, then the job payload's registry credentials.
 */
export function registryAuth(image: string, sources: {
  readonly credentials?: readonly Credentials[] | null;
  readonly dockerAuthConfig?: string;
}): RegistryAuth | undefined {
  const registry = registryOf(image);
  const fromConfig = sources.dockerAuthConfig ? fromDockerAuthConfig(sources.dockerAuthConfig, registry) : undefined;
  if (fromConfig) return fromConfig;
  const credential = sources.credentials?.find((c) => c.type === "registry" && hostOf(c.url) === registry);
  return credential
    ? { username: credential.username, password: credential.password, serveraddress: credential.url, source: "job payload (GitLab Registry)" }
    : undefined;
}

function fromDockerAuthConfig(text: string, registry: string): RegistryAuth | undefined {
  let parsed: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const [address, entry] of Object.entries(parsed.auths ?? {})) {
    const host = hostOf(address);
    if (host !== registry && !(registry === DOCKER_HUB && host === "index.docker.io")) continue;
    const [username, ...rest] = entry.auth ? Buffer.from(entry.auth, "base64").toString().split(":") : [entry.username ?? ""];
    const password = entry.auth ? rest.join(":") : entry.password ?? "";
    if (username) return { username, password, serveraddress: address, source: "$DOCKER_AUTH_CONFIG" };
  }
  return undefined;
}

/** `https://registry.example.com:5000/v1/` and `registry.example.com:5000` both give `registry.example.com:5000`. */
function hostOf(address: string): string {
  return address.replace(/^[a-z]+:\/\//, "").split("/")[0]!;
}
