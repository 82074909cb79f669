import type { PullPolicy } from "../../protocol/types.ts";
import { JobFailure } from "../../protocol/job-failure.ts";
import { DockerApi, DockerApiError } from "./docker-api.ts";
import type { RegistryAuth } from "./registry-auth.ts";

/** What the executor reads of an image's configuration. */
export interface ImageFacts {
  readonly Config?: { Entrypoint?: string[] | null; ExposedPorts?: Record<string, unknown> | null; User?: string | null };
}

/** Makes `image` present as the pull policies say (GitLab Runner tries them in order), or fails the job with `image_pull_failure`. */
export async function ensureImage(
  api: DockerApi, image: string, policies: readonly PullPolicy[], log: (line: string) => void, auth?: RegistryAuth, platform?: string,
): Promise<ImageFacts> {
  const inspect = () => api.request<ImageFacts>(
    "GET", `/images/${encodeURIComponent(image)}/json`,
  );
  let lastError = "";
  for (const policy of policies) {
    if (policy !== "always") {
      try {
        const found = await inspect();
        log(`Using locally found image version due to "${policy}" pull policy`);
        return found;
      } catch (error) {
        if (!(error instanceof DockerApiError) || error.statusCode !== 404) throw error;
        lastError = `image ${image} is not present locally`;
        if (policy === "never") continue;
      }
    }
    if (auth) log(`Authenticating with credentials from ${auth.source}`);
    log(`Pulling docker image ${image} ...`);
    try {
      const { name, tag } = splitImage(image);
      await api.stream("POST", "/images/create", { fromImage: name, tag, ...(platform ? { platform } : {}) },
        auth && { username: auth.username, password: auth.password, serveraddress: auth.serveraddress });
      return await inspect();
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
  }
  throw new JobFailure(
    `failed to pull image "${image}" with specified policies [${policies.join(" ")}]: ${lastError}`,
    { failureReason: "image_pull_failure", system: true },
  );
}

/** `registry:5000/group/name:tag@digest` split into what `/images/create` wants. */
export function splitImage(image: string): { name: string; tag: string } {
  const at = image.indexOf("@");
  if (at >= 0) return { name: image.slice(0, at), tag: image.slice(at + 1) };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image, tag: "latest" };
}
