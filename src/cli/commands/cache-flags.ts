import { Option, type Command } from "@commander-js/extra-typings";
import type { RunnerConfig } from "../../config/config-schema.ts";
import { positiveOrZero } from "./command-kit.ts";

/**
 * `[runners.cache]` and `[runners.cache.s3]` as flags, with GitLab Runner's names and variables
 * (`gitlab-runner run-single --help`): `--cache-type` [CACHE_TYPE], `--cache-s3-bucket-name`
 * [CACHE_S3_BUCKET_NAME]…
 */
export interface CacheFlagValues {
  cacheType?: string; cachePath?: string; cacheShared?: boolean; cacheMaxUploadedArchiveSize?: number;
  cacheS3ServerAddress?: string; cacheS3AccessKey?: string; cacheS3SecretKey?: string; cacheS3BucketName?: string;
  cacheS3BucketLocation?: string; cacheS3Insecure?: boolean; cacheS3AuthenticationType?: string; cacheS3ServerSideEncryption?: string;
}

export function addCacheFlags<C extends Command<any, any, any>>(command: C): C {
  for (const option of cacheFlagOptions()) command.addOption(option);
  return command;
}

/** `[runners.cache]` and `[runners.cache.s3]`'s flags. */
export function cacheFlagOptions(): Option[] {
  return [
    new Option("--cache-type <type>", "shared cache: s3").env("CACHE_TYPE"),
    new Option("--cache-path <path>", "shared cache: the prefix of its objects").env("CACHE_PATH"),
    new Option("--cache-shared", "shared cache: one for all runners (no runner/<token>/ prefix)").env("CACHE_SHARED"),
    new Option("--cache-max_uploaded_archive_size <bytes>", "shared cache: archives above this are not uploaded (0: no limit)").env("CACHE_MAXIMUM_UPLOADED_ARCHIVE_SIZE").argParser(positiveOrZero),
    new Option("--cache-s3-server-address <host:port>", "shared cache: the S3 endpoint").env("CACHE_S3_SERVER_ADDRESS"),
    new Option("--cache-s3-access-key <key>", "shared cache: the S3 access key").env("CACHE_S3_ACCESS_KEY"),
    new Option("--cache-s3-secret-key <key>", "shared cache: the S3 secret key").env("CACHE_S3_SECRET_KEY"),
    new Option("--cache-s3-bucket-name <name>", "shared cache: the bucket").env("CACHE_S3_BUCKET_NAME"),
    new Option("--cache-s3-bucket-location <region>", "shared cache: the bucket's region").env("CACHE_S3_BUCKET_LOCATION"),
    new Option("--cache-s3-insecure", "shared cache: plain http to the endpoint").env("CACHE_S3_INSECURE"),
    new Option("--cache-s3-authentication_type <type>", "shared cache: access-key").env("CACHE_S3_AUTHENTICATION_TYPE"),
    new Option("--cache-s3-server-side-encryption <type>", "shared cache: S3 or KMS").env("CACHE_S3_SERVER_SIDE_ENCRYPTION"),
  ];
}

/** `[runners.cache]` as the flags give it; undefined when they name no cache type. */
export function cacheSectionOf(flags: CacheFlagValues): RunnerConfig["cache"] {
  if (!flags.cacheType) return undefined;
  const pick = <T>(entries: [string, T | undefined][]) => Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as Record<string, T>;
  return {
    Type: flags.cacheType,
    ...pick<unknown>([["Path", flags.cachePath], ["Shared", flags.cacheShared], ["MaxUploadedArchiveSize", flags.cacheMaxUploadedArchiveSize]]),
    s3: pick<unknown>([
      ["ServerAddress", flags.cacheS3ServerAddress], ["AccessKey", flags.cacheS3AccessKey], ["SecretKey", flags.cacheS3SecretKey],
      ["BucketName", flags.cacheS3BucketName], ["BucketLocation", flags.cacheS3BucketLocation], ["Insecure", flags.cacheS3Insecure],
      ["AuthenticationType", flags.cacheS3AuthenticationType], ["ServerSideEncryption", flags.cacheS3ServerSideEncryption],
    ]),
  } as RunnerConfig["cache"];
}
