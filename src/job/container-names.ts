import type { Image, JobResponse } from "../protocol/types.ts";
import { expandVariables, resolveVariables } from "./variables.ts";

/**
 * The job with its image's and services' names and aliases expanded against its variables, as
 * GitLab Runner's expandContainerOptions does (common/build.go): `image: "$IMAGE:latest"` with IMAGE
 * defined is that image, not an image called `$IMAGE:latest`.
 */
export function expandContainerNames(job: JobResponse): JobResponse {
  const variables = resolveVariables(job.variables, "");
  const values = new Map(variables.map((v) => [v.key, v.value]));
  const expand = (text: string) => expandVariables(text, (key) => values.get(key) ?? "");
  const image = (i: Image): Image => ({ ...i, name: expand(i.name), ...(i.alias ? { alias: expand(i.alias) } : {}) });
  return {
    ...job,
    ...(job.image ? { image: image(job.image) } : {}),
    ...(job.services ? { services: job.services.map(image) } : {}),
  };
}
