import type { PullPolicy } from "../../protocol/types.ts";
import type { IsolationHostConfig } from "./host-config.ts";

/** The image a container runs, as the job or `[runners.docker]` names it. */
export interface ContainerImage {
  readonly name: string;
  /** `[""]` clears the image's entrypoint (as in Docker); undefined keeps it. */
  readonly entrypoint?: readonly string[];
  readonly pullPolicies: readonly PullPolicy[];
  readonly user?: string;
  readonly platform?: string;
}

/** `[runners.docker]` settings the containers are made with. */
export interface DockerSettings {
  readonly privileged?: boolean;
  /** `host:container[:mode]` binds and `/container` anonymous volumes. */
  readonly volumes?: readonly string[];
  readonly networkMode?: string;
  readonly extraHosts?: readonly string[];
  readonly memory?: string;
  readonly cpus?: string;
  readonly shmSize?: number;
  readonly tmpfs?: Readonly<Record<string, string>>;
  readonly user?: string;
  /**
   * The `/cache` volume (GitLab Runner's): a host directory (`cache_dir`) or a named volume kept
   * from job to job; none with `disable_cache`.
   */
  readonly cacheVolume?: { readonly hostDir: string } | { readonly volume: string };
  /** `ulimit`: `{ nofile = "1024:2048" }`, soft and hard (one number: both). */
  readonly ulimits?: Readonly<Record<string, string>>;
  /** Capabilities, security options, limits… of the job's containers (host-config.ts). */
  readonly hostConfig?: IsolationHostConfig;
  /** The same for service containers. */
  readonly servicesHostConfig?: IsolationHostConfig;
}

/** A service container: its image and the names it is reached by. */
export interface ServiceImage extends ContainerImage {
  readonly aliases: readonly string[];
  readonly command?: readonly string[];
  readonly variables?: readonly string[];
  /** Ports to wait for besides those the image exposes (`services:ports`). */
  readonly ports?: readonly number[];
}
