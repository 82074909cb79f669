import aws4 from "aws4";
import { posix } from "node:path";
import type { z } from "zod";
import type { cacheSchema } from "../../config/config-schema.ts";

type CacheConfig = z.infer<typeof cacheSchema>;

/** The pre-signed requests of one cache object: what a job's side may do with it, and nothing else. */
export interface PresignedObject {
  /** Where the object is, for the trace: no query, no signature. */
  readonly where: string;
  readonly get: string;
  readonly head: string;
  readonly put: { readonly url: string; readonly headers: Readonly<Record<string, string>> };
}

export type PresignObject = (key: string) => PresignedObject | undefined;

/**
 * The object of a cache key: `[Path/][runner/<short token>/]project/<id>/<key>`, `runner/…` left out
 * when `Shared` (GitLab Runner's cache/cache.go generateObjectName); undefined when the key would
 * leave its project's prefix.
 */
export function cacheObjectName(config: CacheConfig, runnerShortToken: string, projectId: number, key: string): string | undefined {
  const prefix = posix.join(config.Path ?? "", config.Shared ? "" : posix.join("runner", runnerShortToken), "project", String(projectId));
  const name = posix.join(prefix, key);
  return name.startsWith(`${prefix}/`) && name !== `${prefix}/` ? name.replace(/^\/+/, "") : undefined;
}

/**
 * Pre-signed S3 URLs (SigV4 in the query, `aws4`), made by the runner process with its keys and
 * valid for `validSeconds` (the job's timeout, as GitLab Runner's): the transfer needs no credential.
 * Path-style addressing unless the endpoint is AWS's own (virtual-hosted there), or `PathStyle` says.
 */
export function s3Presigner(config: CacheConfig, options: { runnerShortToken: string; projectId: number; validSeconds: number }): PresignObject {
  const s3 = config.s3 ?? {};
  const endpoint = s3.ServerAddress || "s3.amazonaws.com";
  const scheme = s3.Insecure ? "http" : "https";
  const region = s3.BucketLocation || "us-east-1";
  const pathStyle = s3.PathStyle ?? !/(^|\.)amazonaws\.com$/.test(endpoint.replace(/:\d+$/, ""));
  const host = pathStyle ? endpoint : `${s3.BucketName}.${endpoint}`;
  const credentials = { accessKeyId: s3.AccessKey ?? "", secretAccessKey: s3.SecretKey ?? "", ...(s3.SessionToken ? { sessionToken: s3.SessionToken } : {}) };
  const expires = Math.max(1, Math.min(Math.round(options.validSeconds), 7 * 24 * 3600));
  const encryption: Record<string, string> = s3.ServerSideEncryption
    ? /kms/i.test(s3.ServerSideEncryption)
      ? { "x-amz-server-side-encryption": "aws:kms", ...(s3.ServerSideEncryptionKeyID ? { "x-amz-server-side-encryption-aws-kms-key-id": s3.ServerSideEncryptionKeyID } : {}) }
      : { "x-amz-server-side-encryption": "AES256" }
    : {};
  const sign = (method: string, objectPath: string, headers: Record<string, string> = {}) => {
    const signed = aws4.sign({
      host, method, service: "s3", region, signQuery: true, headers: { ...headers },
      path: `${objectPath}?X-Amz-Expires=${expires}`,
    }, credentials);
    return `${scheme}://${host}${signed.path}`;
  };
  return (key) => {
    const name = cacheObjectName(config, options.runnerShortToken, options.projectId, key);
    if (!name) return undefined;
    const objectPath = `${pathStyle ? `/${s3.BucketName}` : ""}/${name.split("/").map(encodeURIComponent).join("/")}`;
    return {
      where: `${scheme}://${host}${objectPath}`,
      get: sign("GET", objectPath), head: sign("HEAD", objectPath),
      put: { url: sign("PUT", objectPath, encryption), headers: encryption },
    };
  };
}
